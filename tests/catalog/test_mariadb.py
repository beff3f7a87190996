"""A MariaDB Mart (PyMySQL): cataloged with its keys, profiled, and only ever read."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from catalog.models import CatalogForeignKey, CatalogTable, ColumnProfile
from catalog.services import connection
from catalog.services import sources as services
from catalog.services.profiling import catalog_profile
from tests.mariadb import scratch_database
from workbench.jobs import JobError

pytestmark = [pytest.mark.django_db]

MART_DDL = [
    """CREATE TABLE ref_channel (
        channel_code VARCHAR(5) PRIMARY KEY,
        channel_name VARCHAR(60) NOT NULL
    ) COMMENT 'Channel lookup'""",
    """CREATE TABLE crm_customer (
        customer_id BIGINT PRIMARY KEY,
        email VARCHAR(200) UNIQUE,
        `Prénom` VARCHAR(80),
        loyalty_points INT,
        budget DECIMAL(12, 2),
        birth_date DATE
    )""",
    """CREATE TABLE mkt_contact (
        contact_id BIGINT PRIMARY KEY,
        customer_id BIGINT NOT NULL,
        channel_code VARCHAR(5),
        CONSTRAINT fk_contact_customer FOREIGN KEY (customer_id)
            REFERENCES crm_customer (customer_id),
        CONSTRAINT fk_contact_channel FOREIGN KEY (channel_code)
            REFERENCES ref_channel (channel_code)
    )""",
    "INSERT INTO ref_channel VALUES ('EML', 'Email'), ('SMS', 'SMS')",
    """INSERT INTO crm_customer VALUES
        (1, 'a@example.com', 'Zoë', 10, 100.50, '1980-01-02'),
        (2, 'b@example.com', NULL, 10, NULL, NULL),
        (3, NULL, 'Zoë', 30, 7.25, '1999-12-31')""",
    "INSERT INTO mkt_contact VALUES (1, 1, 'EML'), (2, 1, 'SMS'), (3, 3, NULL)",
]


@pytest.fixture
def maria_mart(require_mariadb):
    with scratch_database("wb_test_mart") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            for statement in MART_DDL:
                conn.exec_driver_sql(statement)
        engine.dispose()
        yield url


@pytest.fixture
def maria_source(maria_mart, engagement, ba):
    return services.source_system_create(
        engagement=engagement, name="Acme MariaDB Mart", url=maria_mart, acting_user=ba
    )


def test_a_mariadb_mart_is_cataloged_with_its_keys_and_profiled(maria_source, ba):
    result = services.catalog_introspect(source=maria_source, acting_user=ba)

    assert (result["tables"], result["columns"], result["foreign_keys"]) == (3, 11, 2)
    assert maria_source.dialect == "mysql"
    tables = {t.name: t for t in CatalogTable.objects.filter(source=maria_source)}
    assert tables["crm_customer"].primary_key == ["customer_id"]
    assert tables["ref_channel"].comment == "Channel lookup"
    assert {u["columns"][0] for u in tables["crm_customer"].unique_constraints} == {"email"}
    columns = {c.name: c for c in tables["crm_customer"].columns.all()}
    assert columns["Prénom"].length == 80
    assert (columns["budget"].precision, columns["budget"].scale) == (12, 2)
    fks = {
        (fk.columns[0], fk.referred_table.name)
        for fk in CatalogForeignKey.objects.filter(table=tables["mkt_contact"])
    }
    assert fks == {("customer_id", "crm_customer"), ("channel_code", "ref_channel")}

    profiled = catalog_profile(source=maria_source, acting_user=ba)

    assert profiled["tables"] == 3
    first_name = ColumnProfile.objects.get(column=columns["Prénom"])
    assert (first_name.sample_rows, first_name.null_count) == (3, 1)
    assert first_name.top_values == [{"value": "Zoë", "count": 2}]
    points = ColumnProfile.objects.get(column=columns["loyalty_points"])
    assert (points.min_value, points.max_value, points.distinct_count) == ("10", "30", 2)


def test_the_mariadb_session_is_read_only_with_a_statement_timeout(maria_source, ba):
    mart = connection.mart_engine(maria_source, statement_timeout=7)
    with connection.mart_connection(mart) as conn:
        assert conn.exec_driver_sql("SELECT @@max_statement_time").scalar() == 7
        assert conn.exec_driver_sql("SELECT @@session.tx_read_only").scalar() == 1

    for writing in ("DELETE FROM mkt_contact", "CREATE TABLE x (a INT)"):
        mart = connection.mart_engine(maria_source)
        with (
            pytest.raises(JobError) as refused,
            connection.mart_connection(mart, doing="profiling") as conn,
        ):
            conn.exec_driver_sql(writing)
        assert str(refused.value) == (
            "The Mart refused a query while profiling: (1792, 'Cannot execute statement in a "
            "READ ONLY transaction')"
        )
    engine = sa.create_engine(maria_source.url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM mkt_contact").scalar() == 3
        assert conn.exec_driver_sql("SHOW TABLES LIKE 'x'").first() is None
    engine.dispose()
