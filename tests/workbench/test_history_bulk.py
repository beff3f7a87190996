"""fast_bulk_insert_with_history writes the same rows and the same historical rows as
simple-history's bulk_create_with_history — on SQLite, and on PostgreSQL when the suite runs
there (DATABASE_URL=postgres://…)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from simple_history.utils import bulk_create_with_history

from catalog.models import CatalogColumn, CatalogTable, SourceSystem
from tests.factories import SourceSystemFactory
from workbench.history import ANALYZE_AFTER_ROWS, fast_bulk_insert_with_history

pytestmark = pytest.mark.django_db

PROFILED = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
TABLE_ROWS = [
    {
        "schema": "crm",
        "name": "customer",
        "kind": "table",
        "comment": "Customers, as the CRM keeps them — ünïcode\ttab\nnewline \\ backslash",
        "primary_key": ["customer_id"],
        "unique_constraints": [{"name": "uq_ref", "columns": ["external_ref"]}],
        "indexes": [{"name": "ix_email", "columns": ["email"], "unique": False}],
        "row_count": 12_000_000_000,
        "profiled_at": PROFILED,
        "notes": "",
    },
    {"schema": "", "name": "view_x", "kind": "view", "primary_key": []},
]


def _history(model, ids):
    rows = list(model.history.filter(id__in=ids).order_by("id").values())
    for row in rows:
        row.pop("history_id")
    return rows


def _stored(model, ids):
    return list(model.objects.filter(pk__in=ids).order_by("pk").values())


def _pair(engagement):
    """Two empty sources of one engagement: one filled by each way of bulk inserting."""
    return SourceSystemFactory(engagement=engagement), SourceSystemFactory(engagement=engagement)


def test_tables_and_their_history_are_exactly_what_bulk_create_with_history_writes(
    engagement, lead
):
    # given the same table rows, once through simple-history and once through the fast helper
    slow_source, fast_source = _pair(engagement)
    slow = bulk_create_with_history(
        [CatalogTable(engagement=engagement, source=slow_source, **row) for row in TABLE_ROWS],
        CatalogTable,
        default_user=lead,
    )
    before = dt.datetime.now(dt.UTC)
    # when
    ids = fast_bulk_insert_with_history(
        CatalogTable,
        [{"engagement_id": engagement.pk, "source_id": fast_source.pk, **r} for r in TABLE_ROWS],
        acting_user=lead,
        connection=connection,
    )
    # then the stored rows and the historical rows match field by field, but for the keys,
    # the source and the history date
    slow_ids = [t.pk for t in slow]
    assert len(ids) == 2 and len(set(ids) | set(slow_ids)) == 4
    fast_rows, slow_rows = _stored(CatalogTable, ids), _stored(CatalogTable, slow_ids)
    fast_history, slow_history = _history(CatalogTable, ids), _history(CatalogTable, slow_ids)
    assert len(fast_history) == len(slow_history) == 2
    for fast, slow_row in zip(fast_rows + fast_history, slow_rows + slow_history, strict=True):
        assert fast.pop("id") in ids and slow_row.pop("id") in slow_ids
        assert fast.pop("source_id") == fast_source.pk
        assert slow_row.pop("source_id") == slow_source.pk
        if "history_date" in fast:
            assert before <= fast.pop("history_date") <= dt.datetime.now(dt.UTC)
            slow_row.pop("history_date")
        assert fast == slow_row
    assert fast_history[0]["history_type"] == "+"
    assert fast_history[0]["history_user_id"] == lead.pk
    assert fast_history[0]["history_change_reason"] is None
    assert fast_history[0]["profiled_at"] == PROFILED
    assert fast_history[0]["unique_constraints"] == TABLE_ROWS[0]["unique_constraints"]
    assert fast_history[0]["comment"] == TABLE_ROWS[0]["comment"]
    assert fast_history[1]["profiled_at"] is None and fast_history[1]["subject_area"] == ""
    # and the model reads them back as simple-history's own
    table = CatalogTable.objects.get(pk=ids[0])
    assert table.history.get().history_user == lead
    assert table.primary_key == ["customer_id"] and table.row_count == 12_000_000_000


def test_columns_with_booleans_and_nulls_match_too_and_keys_keep_counting(engagement, lead):
    slow_source, fast_source = _pair(engagement)
    slow_table, fast_table = (
        fast_bulk_insert_with_history(
            CatalogTable,
            [{"engagement_id": engagement.pk, "source_id": source.pk, "name": "t"}],
            acting_user=lead,
        )[0]
        for source in (slow_source, fast_source)
    )
    rows = [
        {
            "name": f"c{i}",
            "position": i,
            "data_type": "NUMERIC(12, 2)" if i % 2 else "VARCHAR(50)",
            "length": None if i % 2 else 50,
            "precision": 12 if i % 2 else None,
            "scale": -2 if i % 3 == 0 else None,
            "nullable": i % 2 == 0,
            "default": "" if i % 4 else "nextval('seq'::regclass)",
            "comment": "",
            "is_primary_key": i == 1,
        }
        for i in range(1, 8)
    ]
    slow = bulk_create_with_history(
        [CatalogColumn(engagement=engagement, table_id=slow_table, **row) for row in rows],
        CatalogColumn,
        default_user=lead,
    )
    ids = fast_bulk_insert_with_history(
        CatalogColumn,
        [{"engagement_id": engagement.pk, "table_id": fast_table, **row} for row in rows],
        acting_user=lead,
    )
    slow_ids = [c.pk for c in slow]
    assert min(ids) > max(slow_ids)  # the sequence moved on past the keys it handed out
    fast_all = _stored(CatalogColumn, ids) + _history(CatalogColumn, ids)
    slow_all = _stored(CatalogColumn, slow_ids) + _history(CatalogColumn, slow_ids)
    for fast, slow_row in zip(fast_all, slow_all, strict=True):
        for row in (fast, slow_row):
            row.pop("id"), row.pop("table_id"), row.pop("history_date", None)
        assert fast == slow_row
    # an ordinary save afterwards takes the next key
    later = CatalogColumn.objects.create(engagement=engagement, table_id=fast_table, name="z")
    assert later.pk > max(ids)


def test_models_with_fields_left_out_of_history_are_copied_without_them(engagement, lead):
    # SourceSystem keeps password_encrypted out of its history
    ids = fast_bulk_insert_with_history(
        SourceSystem,
        [{"engagement_id": engagement.pk, "name": "Mart A", "password_encrypted": "secret"}],
        acting_user=lead,
    )
    source = SourceSystem.objects.get(pk=ids[0])
    assert source.password_encrypted == "secret" and source.last_diff == {}
    assert source.history.get().name == "Mart A"


def test_nothing_to_insert_writes_nothing_and_unknown_fields_are_refused(
    engagement, lead, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert fast_bulk_insert_with_history(CatalogTable, [], acting_user=lead) == []
    with pytest.raises(ValueError, match="catalog.CatalogTable has no field colour."):
        fast_bulk_insert_with_history(
            CatalogTable, [{"engagement_id": engagement.pk, "colour": "red"}], acting_user=lead
        )


def test_other_databases_fall_back_to_bulk_create_with_history(engagement, lead, monkeypatch):
    source = SourceSystemFactory(engagement=engagement)
    monkeypatch.setattr(connection, "vendor", "mysql")
    ids = fast_bulk_insert_with_history(
        CatalogTable,
        [{"engagement_id": engagement.pk, "source_id": source.pk, **TABLE_ROWS[1]}],
        acting_user=lead,
        connection=connection,
    )
    monkeypatch.undo()
    table = CatalogTable.objects.get(pk=ids[0])
    assert (table.name, table.kind) == ("view_x", "view")
    assert [(h.history_type, h.history_user) for h in table.history.all()] == [("+", lead)]


def test_a_large_batch_leaves_postgresql_knowing_how_big_the_table_now_is(engagement, lead):
    """A first bulk load would leave PostgreSQL's planner taking the table for nearly empty (and
    joining 100,000 rows by nested loops) until autovacuum comes round: a batch of
    ANALYZE_AFTER_ROWS rows or more refreshes the statistics at once. SQLite plans from its
    indexes and is not asked."""
    source = SourceSystemFactory(engagement=engagement)
    rows = [
        {"engagement_id": engagement.pk, "source_id": source.pk, "schema": "s", "name": f"t{i}"}
        for i in range(ANALYZE_AFTER_ROWS)
    ]
    with CaptureQueriesContext(connection) as captured:
        fast_bulk_insert_with_history(CatalogTable, rows, acting_user=lead)
    analyzed = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor == "sqlite":
        assert analyzed == []
        return
    assert analyzed == [f'ANALYZE "{CatalogTable._meta.db_table}"']
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [analyzed[0][8:]])
        assert cursor.fetchone()[0] >= ANALYZE_AFTER_ROWS


def test_a_batch_into_a_table_the_planner_already_knows_as_large_is_not_analyzed_again(
    engagement, lead
):
    """Sampling a large table again costs far more than the rows it adds would change a plan:
    a batch refreshes the statistics only when it at least doubles the table as they last saw
    it; autovacuum sees to the rest."""
    source = SourceSystemFactory(engagement=engagement)

    def batch(start: int, count: int) -> list[str]:
        rows = [
            {"engagement_id": engagement.pk, "source_id": source.pk, "schema": "s", "name": f"t{i}"}
            for i in range(start, start + count)
        ]
        with CaptureQueriesContext(connection) as captured:
            fast_bulk_insert_with_history(CatalogTable, rows, acting_user=lead)
        return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("ANALYZE")]

    if connection.vendor == "sqlite":
        assert batch(0, ANALYZE_AFTER_ROWS) == []
        return
    with connection.cursor() as cursor:  # what earlier stories left behind: start from empty
        cursor.execute(f'ANALYZE "{CatalogTable._meta.db_table}"')
    analyze = [f'ANALYZE "{CatalogTable._meta.db_table}"']
    assert batch(0, max(2 * ANALYZE_AFTER_ROWS, CatalogTable.objects.count())) == analyze
    size = CatalogTable.objects.count()
    assert size // 2 >= ANALYZE_AFTER_ROWS
    assert batch(size, size // 2) == []  # half as many again: the statistics stand
    grown = CatalogTable.objects.count()
    assert batch(2 * size, grown) == analyze  # as many again as the table now holds
