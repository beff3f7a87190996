"""The Spark SQL `generate_etl` ships, run as an ETL developer runs it on Spark (here pyspark in
local mode): the files in file order, each statement as written — the first load, the same day
again, and the next day after the Mart changed. After every run each interface table holds exactly
the rows computed from the Mart in Python (tests/exports/etl/expected.py), and a second run of the
same day changes nothing."""

from __future__ import annotations

import shutil

import pytest

from exports.etl.plan import build_plan
from exports.services.etl import etl_generate
from tests.spark import register_mart, run_file, scratch_database, table_rows

from .expected import PRIMARY_KEYS, comparable, expected_rows
from .mart_changes import next_day

pytestmark = pytest.mark.spark


def _loaded(spark, plan) -> dict[str, dict[str, dict]]:
    """entity → {primary key: row} of the interface tables, in the form expected_rows uses."""
    out = {}
    for entity in plan.loadable:
        rows = [comparable(row) for row in table_rows(spark, entity.table)]
        keyed = {row[PRIMARY_KEYS[entity.name]]: row for row in rows}
        assert len(keyed) == len(rows), f"{entity.table} holds a primary key twice"
        out[entity.name] = keyed
    return out


def _expected(mart, strategies, previous=None) -> dict[str, dict[str, dict]]:
    """What the interface must hold after a run over `mart`: a fresh load of the Mart for the
    entities replaced or merged; for an append entity, what it held (`previous`) plus the new keys
    whose watermark is not before the last one loaded (a late arrival stays out)."""
    fresh = expected_rows(mart, unicode_case=True)  # Spark's UPPER/LOWER change every letter
    out = {}
    for name, (strategy, watermark) in strategies.items():
        rows = fresh[name]
        if strategy == "append" and previous is not None:
            held = previous[name]
            marks = [r[watermark] for r in held.values() if r[watermark] is not None]
            last = max(marks, default=None)
            rows = {
                **held,
                **{
                    key: row
                    for key, row in rows.items()
                    if key not in held and (last is None or row[watermark] >= last)
                },
            }
        out[name] = rows
    return out


def _run_all(spark, sql_dir) -> dict[str, list[str]]:
    """Every generated file in file order; returns the steps each ran."""
    return {path.name: run_file(spark, path) for path in sorted(sql_dir.glob("*.sql"))}


def _assert_holds(loaded, expected) -> None:
    for name, rows in expected.items():
        assert set(loaded[name]) == set(rows), (
            name,
            sorted(set(loaded[name]) - set(rows))[:5],
            sorted(set(rows) - set(loaded[name]))[:5],
        )
        wrong = [key for key, row in rows.items() if loaded[name][key] != row]
        assert not wrong, (name, wrong[:3], [(loaded[name][k], rows[k]) for k in wrong[:1]])


def test_the_spark_sql_loads_the_demo_day_after_day(spark, mapped, etl, tmp_path, demo_mart_file):
    # Given the Spark SQL generated for the demo engagement
    out = tmp_path / "etl"
    manifest = etl_generate(engagement=mapped, dialect="spark", out=out, acting_user=etl)
    plan = build_plan(engagement=mapped)
    strategies = {e["name"]: (e["strategy"], e["watermark"]) for e in manifest["entities"]}
    assert sorted(strategies) == sorted(e.name for e in plan.loadable)
    # and a copy of the demo Mart registered in Spark, its tables under their own names
    mart = tmp_path / "mart.sqlite3"
    shutil.copy(demo_mart_file, mart)
    register_mart(spark, mart)

    with scratch_database(spark, "wb_spark"):
        # When the files run in file order on an empty database
        steps = _run_all(spark, out / "sql")
        # Then no transaction or constraint clause stood in the way, and every interface table
        # holds the rows computed from the Mart
        assert steps["00_create_interface.sql"] == ["create"] * len(plan.entities)
        first = _loaded(spark, plan)
        _assert_holds(first, _expected(mart, strategies))

        # When the same day's load runs again
        _run_all(spark, out / "sql")
        # Then nothing changed
        assert _loaded(spark, plan) == first

        # When the next day's load runs after the Mart changed
        changes = next_day(mart)
        register_mart(spark, mart)
        _run_all(spark, out / "sql")
        # Then the interface holds the changed Mart's rows (new, changed and deleted ones; an
        # appended entity keeps what it had and takes the rows past its watermark)
        second = _loaded(spark, plan)
        _assert_holds(second, _expected(mart, strategies, previous=first))
        new_customer = str(changes["new_customer"])
        assert new_customer in second["customer"]
        assert str(changes["deleted_customer"]) not in second["customer"]
        assert second["customer"]["3"]["email"] == "new.address@example.com"

        # And running that day again changes nothing
        _run_all(spark, out / "sql")
        assert _loaded(spark, plan) == second
