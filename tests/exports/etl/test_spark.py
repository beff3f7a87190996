"""The Spark SQL `generate_etl` ships, run as an ETL developer runs it on Spark (here pyspark in
local mode): the files in file order, each statement as written — the first load, the same day
again, and the next day after the Mart changed. After every run each interface table holds exactly
the rows computed from the Mart in Python (tests/exports/etl/expected.py), and a second run of the
same day changes nothing."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
import yaml

from contracts import services as contract_services
from contracts.demo import DEMO_CONTRACT
from exports.etl.plan import build_plan
from exports.services.etl import etl_generate
from mappings.choices import LoadStrategy
from mappings.demo import apply_demo_mapping
from mappings.models import EntityMapping
from mappings.services import mapping as services
from tests.spark import register_mart, run_file, scratch_database, table_rows

from .conftest import complete_mapping
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
    fresh = expected_rows(mart, unicode_case=False)  # the rules keep SQLite's ASCII-only case
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


LEGACY = "s.capture_source = 'import_2019'"  # the delete condition, in the Mart's dialect


def _legacy_imports(mart) -> set[str]:
    """Subscriptions the delete condition matches, read from the Mart file (NULL sources kept)."""
    with sqlite3.connect(mart) as db:
        rows = db.execute(
            "SELECT subscription_id FROM crm_subscription WHERE capture_source = 'import_2019'"
        )
        return {str(r[0]) for r in rows}


def test_a_full_refresh_and_a_delete_condition_load_on_spark(
    spark, mapped, ba, etl, tmp_path, demo_mart_file
):
    # Given addresses refreshed in full, and subscriptions merged with legacy imports counting as
    # deleted in the Mart
    entities = EntityMapping.objects.filter(engagement=mapped)
    services.entity_mapping_update(
        entity_mapping=entities.get(entity_name="customer_address"),
        data={"load_strategy": LoadStrategy.FULL_REFRESH},
        acting_user=ba,
    )
    services.entity_mapping_update(
        entity_mapping=entities.get(entity_name="subscription"),
        data={"delete_condition": LEGACY},
        acting_user=ba,
    )
    out = tmp_path / "etl"
    manifest = etl_generate(engagement=mapped, dialect="spark", out=out, acting_user=etl)
    plan = build_plan(engagement=mapped)
    strategies = {e["name"]: (e["strategy"], e["watermark"]) for e in manifest["entities"]}
    assert strategies["customer_address"][0] == LoadStrategy.FULL_REFRESH
    assert strategies["subscription"][0] == LoadStrategy.MERGE
    mart = tmp_path / "mart.sqlite3"
    shutil.copy(demo_mart_file, mart)
    register_mart(spark, mart)

    def expected(previous=None):
        rows = _expected(mart, strategies, previous)
        legacy = _legacy_imports(mart)
        assert legacy & set(rows["subscription"]), "the demo Mart has legacy imports to leave out"
        rows["subscription"] = {k: r for k, r in rows["subscription"].items() if k not in legacy}
        return rows

    with scratch_database(spark, "wb_spark"):
        # When the files run: the first load
        steps = _run_all(spark, out / "sql")
        # Then both entities were overwritten (Spark tables have no DELETE), legacy imports left out
        assert steps["03_customer_address.sql"] == ["overwrite"]
        assert steps["04_subscription.sql"] == ["overwrite"]
        first = _loaded(spark, plan)
        _assert_holds(first, expected())

        # When the next day a loaded subscription turns out to be a legacy import
        changes = next_day(mart)
        gone = str(changes["deleted_customer"])
        kept = min(
            (k for k, row in first["subscription"].items() if row["customer_id"] != gone), key=int
        )
        with sqlite3.connect(mart) as db:
            db.execute(
                "UPDATE crm_subscription SET capture_source = 'import_2019' "
                "WHERE subscription_id = ?",
                (int(kept),),
            )
        register_mart(spark, mart)
        _run_all(spark, out / "sql")
        # Then it is gone from the interface, and the rest equals the changed Mart
        second = _loaded(spark, plan)
        assert kept not in second["subscription"]
        _assert_holds(second, expected(previous=first))


@pytest.fixture
def time_of_day_mapped(engagement, ba, cataloged):
    """The demo, but the contract's campaign ends at a time of day (TIME)."""
    contract = yaml.safe_load(DEMO_CONTRACT.read_text())
    campaign = next(e for e in contract["schema"] if e["name"] == "campaign")
    end = next(p for p in campaign["properties"] if p["name"] == "end_date")
    end.update(logicalType="time", physicalType="TIME")
    layer = contract_services.contract_import(
        engagement=engagement,
        file_name="marketing_360_time.odcs.yaml",
        content=yaml.safe_dump(contract, sort_keys=False).encode(),
        acting_user=ba,
    )
    contract_services.contract_publish(layer=layer, acting_user=ba)
    apply_demo_mapping(engagement, ba)
    complete_mapping(engagement, ba)
    return engagement


def test_a_time_of_day_is_refused_on_spark_by_name(spark, time_of_day_mapped, etl, tmp_path):
    # Given a contract with a TIME column, which Spark cannot store
    with pytest.raises(Exception, match="UNSUPPORTED_TIME_TYPE"):
        spark.sql("SELECT CAST('17:30:00' AS TIME)").collect()
    # When the ETL is generated for Spark
    manifest = etl_generate(
        engagement=time_of_day_mapped, dialect="spark", out=tmp_path / "spark", acting_user=etl
    )
    # Then the entity is left out and named with the reason (never declared as a timestamp)
    assert manifest["skipped"] == {
        "campaign": "The column campaign.end_date cannot be loaded on spark: "
        "Spark has no TIME type (a time of day)."
    }
    ddl = (tmp_path / "spark" / "sql" / "00_create_interface.sql").read_text()
    assert "if_campaign" not in ddl
    assert "CREATE TABLE IF NOT EXISTS if_customer (" in ddl
    # And PostgreSQL, which has the type, generates every entity
    postgres = etl_generate(
        engagement=time_of_day_mapped, dialect="postgres", out=tmp_path / "pg", acting_user=etl
    )
    assert postgres["skipped"] == {}
