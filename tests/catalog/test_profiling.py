"""Profiling the Mart on sample data: one aggregate query per table, figures stored per column."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection as django_connection
from sqlalchemy import event

from catalog.models import CatalogTable, ColumnProfile
from catalog.services import connection
from catalog.services import sources as services
from catalog.services.profiling import catalog_profile, column_kind
from workbench.choices import JobState

pytestmark = pytest.mark.django_db


def _profile(source, table, column):
    return ColumnProfile.objects.get(
        column__table__source=source, column__table__name=table, column__name=column
    )


def test_profiling_the_demo_mart_stores_figures_per_column(cataloged, ba):
    result = catalog_profile(source=cataloged, acting_user=ba)

    assert result == {"tables": 7, "columns": 55, "sample_rows": 100_000}
    customer = CatalogTable.objects.get(source=cataloged, name="crm_customer")
    assert customer.row_count == 1260
    email = _profile(cataloged, "crm_customer", "email")
    assert (email.sample_rows, email.null_count, email.null_percent) == (1260, 56, 4.44)
    assert email.distinct_count == 1197
    assert email.patterns == [{"pattern": "email", "percent": 100.0}]
    assert email.taken_at is not None and email.max_length >= email.avg_length > 10
    status = _profile(cataloged, "crm_customer", "status")
    assert status.top_values[0] == {"value": "ACTIVE", "count": 778}
    assert [v["value"] for v in status.top_values] == ["ACTIVE", "Inactive", "active", "CLOSED"]
    assert _profile(cataloged, "crm_customer", "customer_id").top_values == []  # all distinct
    assert {"pattern": "phone", "percent": 100.0} in _profile(
        cataloged, "crm_customer", "phone"
    ).patterns
    assert _profile(cataloged, "crm_customer", "birth_date").patterns == [
        {"pattern": "date as text", "percent": 100.0}
    ]
    assert _profile(cataloged, "mkt_campaign", "campaign_code").patterns == [
        {"pattern": "code", "percent": 100.0}
    ]
    code = _profile(cataloged, "mkt_email_event", "campaign_code")
    assert code.null_count > 0
    budget = _profile(cataloged, "mkt_campaign", "budget_gbp")
    assert float(budget.min_value) < float(budget.max_value)
    assert ColumnProfile.history.filter(history_user=ba).count() == 55


def test_profiling_is_one_aggregate_query_per_table_plus_top_values(cataloged, ba):
    mart = connection.mart_engine(cataloged)
    statements = []
    original = connection.mart_engine
    table = CatalogTable.objects.get(source=cataloged, name="ref_channel")

    def counting_engine(source, **kwargs):
        event.listen(mart.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        mart.statement_timeout = kwargs.get("statement_timeout", 60)
        return mart

    connection.mart_engine = counting_engine
    try:
        catalog_profile(source=cataloged, acting_user=ba, table_ids=[table.pk])
    finally:
        connection.mart_engine = original

    aggregates = [s for s in statements if "count(DISTINCT" in s]
    assert len(aggregates) == 1  # every scalar figure of every column at once
    grouped = [s for s in statements if "GROUP BY" in s]
    assert len(grouped) == 2  # top values of the repeating columns only (channel_group, is_paid)


def test_the_sample_limit_bounds_the_rows_profiled(cataloged, ba):
    catalog_profile(source=cataloged, acting_user=ba, sample_rows=100)

    event_id = _profile(cataloged, "mkt_email_event", "event_id")
    assert event_id.sample_rows == 100
    assert CatalogTable.objects.get(source=cataloged, name="mkt_email_event").row_count == 4000


def test_reprofiling_updates_the_profiles_in_place_with_history(profiled, ba):
    count = ColumnProfile.objects.count()

    catalog_profile(source=profiled, acting_user=ba, sample_rows=500)

    assert ColumnProfile.objects.count() == count
    email = _profile(profiled, "crm_customer", "email")
    assert email.sample_rows == 500
    assert email.history.count() == 2


def test_odd_names_survive_profiling(engagement, ba, tmp_path):
    path = tmp_path / "odd.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        'CREATE TABLE "select" ("order" INTEGER, "From Date" TEXT, "Ünïcode" TEXT, "MiXed" TEXT);'
        "INSERT INTO \"select\" VALUES (1, '2024-01-01', 'ä', 'A'), (1, '2024-01-02', 'ä', NULL),"
        " (2, NULL, 'ö', 'A');"
    )
    db.commit()
    db.close()
    source = services.source_system_create(
        engagement=engagement, name="Odd", url=f"sqlite:///{path}", acting_user=ba
    )
    services.catalog_introspect(source=source, acting_user=ba)

    catalog_profile(source=source, acting_user=ba)

    order = _profile(source, "select", "order")
    assert (order.distinct_count, order.min_value, order.max_value) == (2, "1", "2")
    assert order.top_values == [{"value": "1", "count": 2}, {"value": "2", "count": 1}]
    assert _profile(source, "select", "From Date").null_count == 1
    assert _profile(source, "select", "Ünïcode").top_values[0] == {"value": "ä", "count": 2}
    assert _profile(source, "select", "MiXed").null_percent == 33.33


def test_profiling_runs_as_a_job(cataloged, ba, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.profiling_start(source=cataloged, acting_user=ba, sample_rows=1000)

    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result == {
        "summary": "Profiled 7 tables, 55 columns",
        "tables": 7,
        "columns": 55,
        "sample_rows": 1000,
    }


def test_profiling_needs_a_catalog_first(source, ba):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.profiling_start(source=source, acting_user=ba)
    assert refused.value.messages == ["Introspect the Mart before profiling it."]


@pytest.mark.parametrize(
    ("data_type", "kind"),
    [
        ("VARCHAR(200)", "text"),
        ("", "text"),
        ("NUMERIC(12, 2)", "number"),
        ("TIMESTAMP WITHOUT TIME ZONE", "temporal"),
        ("BOOLEAN", "discrete"),
        ("UUID", "discrete"),
        ("JSONB", "other"),
        ("BYTEA", "other"),
    ],
)
def test_column_kinds_decide_which_figures_apply(data_type, kind):
    assert column_kind(data_type) == kind


def test_profiling_does_not_touch_the_apps_database_per_column(cataloged, ba):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(django_connection) as queries:
        catalog_profile(source=cataloged, acting_user=ba)

    assert len(queries) < 40  # bulk writes: independent of the 55 columns
