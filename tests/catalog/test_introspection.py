"""A Tech BA points the workbench at the Mart, sees its catalog with keys and relationships, writes
notes, and re-introspects after a schema change to see the diff — notes kept."""

from __future__ import annotations

import sqlite3

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from catalog.models import CatalogColumn, CatalogForeignKey, CatalogTable, SourceSystem
from catalog.services import sources as services
from workbench.choices import JobState
from workbench.models import Job

pytestmark = pytest.mark.django_db


def test_introspecting_the_demo_mart_catalogs_tables_columns_keys_and_views(source, ba):
    result = services.catalog_introspect(source=source, acting_user=ba)

    assert (result["tables"], result["columns"], result["foreign_keys"]) == (7, 55, 6)
    tables = {t.name: t for t in CatalogTable.objects.filter(source=source)}
    assert sorted(tables) == [
        "crm_customer",
        "crm_customer_address",
        "crm_subscription",
        "mkt_campaign",
        "mkt_email_event",
        "ref_channel",
        "v_active_customer",
    ]
    assert tables["v_active_customer"].kind == "view"
    assert tables["crm_customer"].primary_key == ["customer_id"]
    assert {
        "name": "ux_customer_ref",
        "columns": ["source_customer_ref"],
        "unique": True,
    } in tables["crm_customer"].indexes
    campaign = tables["mkt_campaign"].columns.get(name="budget_gbp")
    assert (campaign.data_type, campaign.precision, campaign.scale) == ("NUMERIC(12, 2)", 12, 2)
    created = tables["crm_customer"].columns.get(name="created_at")
    assert (created.nullable, created.position) == (False, 11)
    fks = {
        (fk.table.name, tuple(fk.columns), fk.referred_table.name)
        for fk in CatalogForeignKey.objects.filter(table__source=source)
    }
    assert ("mkt_email_event", ("campaign_id",), "mkt_campaign") in fks
    assert ("crm_subscription", ("channel_code",), "ref_channel") in fks
    assert CatalogColumn.history.filter(history_user=ba).count() == 55
    source.refresh_from_db()
    assert source.introspected_at is not None and source.last_diff["first"] is True


def test_odd_names_survive_introspection_and_quoting(engagement, ba, tmp_path):
    path = tmp_path / "odd.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        'CREATE TABLE "Order Lines" ("order" INTEGER PRIMARY KEY, "select" TEXT, "MixedCase" TEXT, '
        '"first name" TEXT, "prénom" TEXT, "größe" INTEGER);'
        "INSERT INTO \"Order Lines\" VALUES (1, 'a', 'X', 'Ann', 'Zoë', 3), (2, 'a', NULL, 'Bo', 'Zoë', 4);"
    )
    db.commit()
    db.close()
    source = services.source_system_create(
        engagement=engagement, name="Odd", url=f"sqlite:///{path}", acting_user=ba
    )

    services.catalog_introspect(source=source, acting_user=ba)

    table = CatalogTable.objects.get(source=source)
    assert table.name == "Order Lines"
    assert list(table.columns.values_list("name", flat=True)) == [
        "order",
        "select",
        "MixedCase",
        "first name",
        "prénom",
        "größe",
    ]
    assert table.primary_key == ["order"]


def test_reintrospection_shows_the_diff_and_keeps_notes_of_what_still_exists(
    engagement, ba, mart_copy
):
    source = services.source_system_create(
        engagement=engagement, name="Mart", url=f"sqlite:///{mart_copy}", acting_user=ba
    )
    services.catalog_introspect(source=source, acting_user=ba)
    customer = CatalogTable.objects.get(source=source, name="crm_customer")
    services.table_understanding_update(
        table=customer,
        data={"subject_area": "Customer", "grain": "One row per customer"},
        acting_user=ba,
    )
    email = customer.columns.get(name="email")
    services.column_notes_update(column=email, notes="Lower-case before matching", acting_user=ba)
    services.impacted_entity_add(table=customer, entity_name="Customer", acting_user=ba)
    # given the Mart team changes the schema
    db = sqlite3.connect(mart_copy)
    db.executescript(
        """
        CREATE TABLE mkt_sms_event (event_id INTEGER PRIMARY KEY,
            customer_id INTEGER REFERENCES crm_customer (customer_id), sent_at TEXT);
        DROP VIEW v_active_customer;
        ALTER TABLE crm_customer DROP COLUMN gender;
        ALTER TABLE crm_customer ADD COLUMN loyalty_tier VARCHAR(20);
        DROP TABLE ref_channel;
        CREATE TABLE ref_channel (channel_code VARCHAR(5) PRIMARY KEY, channel_name TEXT NOT NULL,
            channel_group TEXT, is_paid INTEGER NOT NULL DEFAULT 0);
        """
    )
    db.commit()
    db.close()

    result = services.catalog_introspect(source=source, acting_user=ba)

    diff = result["diff"]
    assert diff["changed"] is True
    assert diff["tables_added"] == ["mkt_sms_event"]
    assert diff["tables_dropped"] == ["v_active_customer"]
    assert diff["columns_added"] == ["crm_customer.loyalty_tier"]
    assert diff["columns_dropped"] == ["crm_customer.gender"]
    assert diff["types_changed"] == [
        {"column": "ref_channel.channel_code", "from": "TEXT", "to": "VARCHAR(5)"}
    ]
    assert diff["foreign_keys_added"] == ["mkt_sms_event(customer_id) → crm_customer(customer_id)"]
    customer.refresh_from_db()
    assert (customer.subject_area, customer.grain) == ("customer", "One row per customer")
    assert customer.columns.get(name="email").notes == "Lower-case before matching"
    assert list(customer.impacted_entities.values_list("entity_name", flat=True)) == ["Customer"]
    assert not CatalogTable.objects.filter(source=source, name="v_active_customer").exists()
    source.refresh_from_db()
    assert source.last_diff["counts"]["tables_added"] == 1


def test_every_column_belongs_to_a_stored_table_of_its_engagement(
    engagement, ba, outsider, mart_copy
):
    # The database checks neither reference of a column (its table, its engagement, a copy of
    # the table's): the store and Django's cascades are what keep them, for two engagements on
    # one Mart, through first stores, additions, a dropped table and a deleted source.
    other = outsider.memberships.get().engagement
    sources = {
        engagement: services.source_system_create(
            engagement=engagement, name="Mart", url=f"sqlite:///{mart_copy}", acting_user=ba
        ),
        other: services.source_system_create(
            engagement=other, name="Mart", url=f"sqlite:///{mart_copy}", acting_user=outsider
        ),
    }

    def in_the_mart(script: str) -> None:
        db = sqlite3.connect(mart_copy)
        db.executescript(script)
        db.close()

    def assert_every_column_has_its_table() -> None:
        stored_tables = CatalogTable.objects.values("pk")
        assert not CatalogColumn.objects.exclude(table_id__in=stored_tables).exists()
        assert not CatalogColumn.objects.exclude(engagement_id=F("table__engagement_id")).exists()

    services.catalog_introspect(source=sources[engagement], acting_user=ba)
    in_the_mart(
        "CREATE TABLE mkt_sms_event (event_id INTEGER PRIMARY KEY, sent_at TEXT);"
        "ALTER TABLE crm_customer ADD COLUMN loyalty_tier VARCHAR(20);"
    )
    services.catalog_introspect(source=sources[engagement], acting_user=ba)  # adds to a catalog
    services.catalog_introspect(source=sources[other], acting_user=outsider)  # a first store

    assert_every_column_has_its_table()
    for owner, source in sources.items():
        mine = CatalogColumn.objects.filter(engagement=owner)
        assert mine.count() == 55 + 3 == mine.filter(table__source=source).count()

    in_the_mart("DROP TABLE mkt_sms_event;")
    services.catalog_introspect(source=sources[engagement], acting_user=ba)  # drops a table

    assert_every_column_has_its_table()
    assert CatalogColumn.objects.filter(engagement=engagement).count() == 55 + 1

    services.source_system_delete(source=sources[other], acting_user=outsider)

    assert_every_column_has_its_table()
    assert not CatalogColumn.objects.filter(engagement=other).exists()
    assert CatalogColumn.objects.filter(engagement=engagement).count() == 56


def test_a_second_introspection_without_changes_writes_no_history(cataloged, ba):
    before = CatalogColumn.history.count()

    result = services.catalog_introspect(source=cataloged, acting_user=ba)

    assert result["diff"]["changed"] is False
    assert CatalogColumn.history.count() == before


def test_a_second_introspection_without_changes_writes_no_catalog_row_at_all(cataloged, ba):
    # given a catalog that matches the Mart
    with CaptureQueriesContext(connection) as queries:
        # when it is introspected again
        result = services.catalog_introspect(source=cataloged, acting_user=ba)
    # then the only writes record the introspection on the source system itself
    writes = [
        q["sql"].split('"')[1]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE", "COPY"))
    ]
    assert result["diff"]["counts"] == dict.fromkeys(result["diff"]["counts"], 0)
    assert sorted(writes) == ["mappings_historicalsourcesystem", "mappings_sourcesystem"]


def test_the_first_introspection_writes_one_creation_record_per_row_by_the_acting_user(
    cataloged, ba
):
    for model in (CatalogTable, CatalogColumn, CatalogForeignKey):
        stored = {
            row["id"]: row for row in model.objects.filter(engagement=cataloged.engagement).values()
        }
        history = list(model.history.filter(id__in=stored).values())
        assert len(history) == len(stored) > 0
        for row in history:
            assert (row.pop("history_type"), row.pop("history_user_id")) == ("+", ba.pk)
            assert row.pop("history_change_reason") is None
            row.pop("history_id"), row.pop("history_date")
            assert row == stored[row["id"]]
    customer = CatalogTable.objects.get(source=cataloged, name="crm_customer")
    assert customer.history.get().history_user == ba
    assert customer.primary_key == ["customer_id"]
    assert customer.columns.get(name="customer_id").is_primary_key is True


def test_reintrospection_records_what_changed_in_history(engagement, ba, mart_copy):
    source = services.source_system_create(
        engagement=engagement, name="Mart", url=f"sqlite:///{mart_copy}", acting_user=ba
    )
    services.catalog_introspect(source=source, acting_user=ba)
    customer = CatalogTable.objects.get(source=source, name="crm_customer")
    gender = customer.columns.get(name="gender")
    channel_code = CatalogColumn.objects.get(
        table__source=source, name="channel_code", table__name="ref_channel"
    )
    db = sqlite3.connect(mart_copy)
    db.executescript(
        """
        ALTER TABLE crm_customer DROP COLUMN gender;
        ALTER TABLE crm_customer ADD COLUMN loyalty_tier VARCHAR(20);
        DROP TABLE ref_channel;
        CREATE TABLE ref_channel (channel_code VARCHAR(5) PRIMARY KEY, channel_name TEXT NOT NULL,
            channel_group TEXT, is_paid INTEGER NOT NULL DEFAULT 0);
        """
    )
    db.commit()
    db.close()

    services.catalog_introspect(source=source, acting_user=ba)

    dropped = CatalogColumn.history.filter(id=gender.pk).order_by("history_date")
    assert [(h.history_type, h.history_user) for h in dropped] == [("+", ba), ("-", ba)]
    changed = CatalogColumn.history.filter(id=channel_code.pk).order_by("history_date")
    assert [(h.history_type, h.data_type) for h in changed] == [("+", "TEXT"), ("~", "VARCHAR(5)")]
    tier = customer.columns.get(name="loyalty_tier")
    assert [(h.history_type, h.history_user, h.data_type) for h in tier.history.all()] == [
        ("+", ba, "VARCHAR(20)")
    ]
    assert customer.history.count() == 1  # its own structure did not change


def test_a_failed_introspection_job_leaves_the_previous_catalog_intact(
    engagement, ba, mart_copy, django_capture_on_commit_callbacks
):
    source = services.source_system_create(
        engagement=engagement, name="Mart", url=f"sqlite:///{mart_copy}", acting_user=ba
    )
    services.catalog_introspect(source=source, acting_user=ba)
    mart_copy.unlink()

    with django_capture_on_commit_callbacks(execute=True):
        job = services.introspection_start(source=source, acting_user=ba)

    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == f"The SQLite file {mart_copy} does not exist."
    assert CatalogTable.objects.filter(source=source).count() == 7


def test_introspection_runs_as_a_job_with_progress(source, ba, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.introspection_start(source=source, acting_user=ba)

    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.progress == 100
    assert job.result["summary"] == "Cataloged 7 tables, 55 columns, 6 foreign keys"
    assert job.params == {"source_id": source.pk, "schemas": [""]}
    assert Job.objects.get().started_by == ba


def test_a_viewer_cannot_introspect(source, viewer):
    with pytest.raises(PermissionDenied):
        services.introspection_start(source=source, acting_user=viewer)
    with pytest.raises(PermissionDenied):
        services.catalog_introspect(source=source, acting_user=viewer)


def test_deleting_a_source_deletes_its_catalog_with_history(cataloged, ba):
    services.source_system_delete(source=cataloged, acting_user=ba)

    assert not SourceSystem.objects.exists()
    assert not CatalogTable.objects.exists()
    assert SourceSystem.history.filter(history_type="-").get().history_user == ba


def test_type_names_compiled_once_per_distinct_type_are_those_of_each_column_alone(tmp_path):
    """The reader works out each distinct type's name, length, precision and scale once and
    reuses them; every column must still get those of its own type (no two different types may
    share a cache entry)."""
    import sqlalchemy as sa

    from catalog.services.introspection import _column

    path = tmp_path / "types.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE t (a VARCHAR(10), b VARCHAR(20), c NUMERIC(12, 2), d NUMERIC(12, 3), "
        "e DECIMAL(12, 2), f INTEGER, g TEXT, h VARCHAR(10), i TIMESTAMP, j NUMERIC(12, 2))"
    )
    db.close()
    engine = sa.create_engine(f"sqlite:///{path}")
    columns = sa.inspect(engine).get_columns("t")

    cache: dict = {}
    shared = [_column(col, n, engine.dialect, cache) for n, col in enumerate(columns)]
    alone = [_column(col, n, engine.dialect) for n, col in enumerate(columns)]

    assert shared == alone
    assert [(c.length, c.precision, c.scale) for c in shared[:4]] == [
        (10, None, None),
        (20, None, None),
        (None, 12, 2),
        (None, 12, 3),
    ]
    assert [c.data_type for c in shared[:5]] == [
        "VARCHAR(10)",
        "VARCHAR(20)",
        "NUMERIC(12, 2)",
        "NUMERIC(12, 3)",
        "DECIMAL(12, 2)",
    ]
    assert len(cache) == 8  # a, b, c, d, e, f, g, i: h and j reuse a's and c's names
