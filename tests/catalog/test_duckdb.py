"""A DuckDB Mart file (the duckdb-engine dialect is installed with the verification tools)."""

from __future__ import annotations

import pytest

from catalog.models import CatalogTable, ColumnProfile
from catalog.services import sources as services
from catalog.services.profiling import catalog_profile
from tests.conftest import require_module

duckdb = require_module("duckdb")
require_module("duckdb_engine")

pytestmark = pytest.mark.django_db


def test_a_duckdb_mart_is_cataloged_and_profiled_read_only(engagement, ba, tmp_path):
    path = tmp_path / "mart.duckdb"
    db = duckdb.connect(str(path))
    db.execute(
        'CREATE TABLE crm_customer (customer_id INTEGER PRIMARY KEY, email VARCHAR, "order" INTEGER,'
        ' "Segment Name" VARCHAR)'
    )
    db.execute(
        "INSERT INTO crm_customer SELECT i, 'c' || i || '@example.com', i % 3,"
        " CASE WHEN i % 2 = 0 THEN 'Loyal' ELSE 'New' END FROM range(1, 101) t(i)"
    )
    db.execute(
        "CREATE TABLE mkt_email_event (event_id INTEGER PRIMARY KEY,"
        " customer_id INTEGER REFERENCES crm_customer (customer_id), event_type VARCHAR(10))"
    )
    db.close()
    source = services.source_system_create(
        engagement=engagement, name="Duck", url=f"duckdb:///{path}", acting_user=ba
    )

    result = services.catalog_introspect(source=source, acting_user=ba)
    catalog_profile(source=source, acting_user=ba)

    assert (result["tables"], result["columns"], result["foreign_keys"]) == (2, 7, 1)
    event = CatalogTable.objects.get(source=source, name="mkt_email_event")
    fk = event.foreign_keys.get()
    assert (fk.columns, fk.referred_table.name, fk.referred_columns) == (
        ["customer_id"],
        "crm_customer",
        ["customer_id"],
    )
    assert event.columns.get(name="event_type").data_type == "VARCHAR"
    table = CatalogTable.objects.get(source=source, name="crm_customer")
    assert (table.name, table.primary_key, table.row_count) == (
        "crm_customer",
        ["customer_id"],
        100,
    )
    segment = ColumnProfile.objects.get(column__name="Segment Name")
    assert segment.top_values == [{"value": "Loyal", "count": 50}, {"value": "New", "count": 50}]
    order = ColumnProfile.objects.get(column__name="order")
    assert order.distinct_count == 3
    assert ColumnProfile.objects.get(column__name="email").patterns == [
        {"pattern": "email", "percent": 100.0}
    ]


def test_the_duckdb_mart_is_opened_read_only(engagement, ba, tmp_path):
    import sqlalchemy as sa

    from catalog.services import connection
    from workbench.jobs import JobError

    path = tmp_path / "mart.duckdb"
    db = duckdb.connect(str(path))
    db.execute("CREATE TABLE ref_channel (code VARCHAR)")
    db.close()
    source = services.source_system_create(
        engagement=engagement, name="Duck", url=f"duckdb:///{path}", acting_user=ba
    )

    with (
        pytest.raises(JobError, match="read-only"),
        connection.mart_connection(connection.mart_engine(source), doing="writing") as conn,
    ):
        conn.execute(sa.text("INSERT INTO ref_channel VALUES ('x')"))
