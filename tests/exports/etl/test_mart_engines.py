"""A test run reads its Mart — SQLite, PostgreSQL or MariaDB — read-only: the demo Mart on each
engine is loaded into a SQLite target, and SQL that would write to the Mart is refused by the
engine itself, leaving the Mart as it was."""

from __future__ import annotations

import shutil
import sqlite3
import threading

import pytest
import sqlalchemy as sa
import sqlglot
from sqlglot import exp

from exports.etl import sql
from exports.etl.plan import build_plan
from exports.testrun import engine
from exports.testrun.choices import RunStatus
from tests.mariadb import copy_sqlite, scratch_database

from .expected import expected_rows
from .pgmart import PG_URL, copy_mart, drop_schema, unique_schema
from .test_testrun import _run

WRITES = {
    "delete": lambda entity, source_schema=None: exp.delete(
        sql.table("crm_customer", source_schema)
    ),
    "create": lambda entity, source_schema=None: sqlglot.parse_one("CREATE TABLE x (a INT)"),
}
REFUSED = {
    "sqlite": "attempt to write a readonly database",
    "postgresql": "read-only transaction",
    "mariadb": "Cannot execute statement in a READ ONLY transaction",
}


@pytest.fixture
def sqlite_mart(tmp_path, demo_mart_file):
    database = tmp_path / "mart.sqlite3"
    shutil.copy(demo_mart_file, database)
    return {"url": f"sqlite:///{database}", "schema": None, "engine": "sqlite"}


@pytest.fixture
def postgres_mart(require_postgres, demo_mart_file):
    admin = sa.create_engine(PG_URL)
    schema = unique_schema("etl_ro")
    try:
        copy_mart(demo_mart_file, admin, schema)
        yield {"url": PG_URL, "schema": schema, "engine": "postgresql"}
    finally:
        drop_schema(admin, schema)
        admin.dispose()


@pytest.fixture
def mariadb_mart(require_mariadb, demo_mart_file):
    with scratch_database("wb_test_etl") as url:
        copy_sqlite(demo_mart_file, url)
        yield {"url": url, "schema": None, "engine": "mariadb"}


@pytest.fixture(params=["sqlite_mart", "postgres_mart", "mariadb_mart"])
def mart(request):
    return request.getfixturevalue(request.param)


def _customers(mart) -> int:
    db = sa.create_engine(mart["url"])
    dialect = sql.BACKEND_DIALECTS.get(db.dialect.name, db.dialect.name)
    table = sql.table("crm_customer", mart["schema"]).sql(dialect=dialect)
    try:
        with db.connect() as conn:
            return conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar()
    finally:
        db.dispose()


def _unchanged(mart, customers: int) -> None:
    assert _customers(mart) == customers
    db = sa.create_engine(mart["url"])
    try:
        assert not sa.inspect(db).has_table("x", schema=mart["schema"])
    finally:
        db.dispose()


def _options(mart, tmp_path) -> engine.RunOptions:
    return engine.RunOptions(
        source_url=mart["url"],
        target_url=f"sqlite:///{tmp_path / 'target.sqlite3'}",
        source_schema=mart["schema"],
    )


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_unit_test_whose_mart_query_writes_is_refused_by_the_engine(
    mart, write, mapped, tmp_path, monkeypatch
):
    # Given a Mart and a field-value test whose query on the Mart (by a bug, or a rule slipping
    # through) would write to it
    before = _customers(mart)
    monkeypatch.setattr(
        engine,
        "field_value_tree",
        lambda entity, *_a, **kw: WRITES[write](entity, kw.get("source_schema")),
    )

    # When the test run loads the target and runs its unit tests
    outcome = engine.run(build_plan(engagement=mapped), _options(mart, tmp_path))

    # Then the Mart's engine refused every such query, and the Mart is as it was
    field_values = [r for r in outcome.results if r.check.name.endswith("field values")]
    assert field_values and not any(r.passed for r in field_values)
    assert all(REFUSED[mart["engine"]] in r.actual for r in field_values), field_values[0].actual
    assert outcome.rows > 0  # the load itself read the Mart as usual
    _unchanged(mart, before)


def test_the_generated_scripts_read_a_copy_of_the_mart_in_the_target(mart, mapped, tmp_path):
    # Given a Mart on any engine
    before = _customers(mart)

    # When the test run loads a SQLite target with the generated scripts
    outcome = engine.run(build_plan(engagement=mapped), _options(mart, tmp_path))

    # Then the scripts read the Mart's tables copied whole into the target's staging schema (a
    # file attached beside a SQLite target) and loaded every entity from them
    staged = sqlite3.connect(tmp_path / "target.sqlite3.workbench_mart")
    assert staged.execute("SELECT COUNT(*) FROM crm_customer").fetchone() == (before,)
    staged.close()
    assert {load.entity for load in outcome.loads} == {
        e.name for e in build_plan(engagement=mapped).loadable
    }
    # And the Mart itself was only read
    _unchanged(mart, before)


def test_a_mariadb_mart_is_read_by_a_test_run(mariadb_mart, mapped, etl, tmp_path, demo_mart_file):
    # Given the demo Mart on MariaDB
    # (the rules are the demo catalog's, SQLite's: their LOWER and UPPER keep SQLite's ASCII-only
    # meaning when MariaDB evaluates them, as on the target)
    expected = expected_rows(demo_mart_file, unicode_case=False)

    # When the ETL developer test-runs the mapping from it into a DuckDB target
    run = _run(mapped, etl, mariadb_mart["url"], f"duckdb:///{tmp_path / 't.duckdb'}")

    # Then every entity is loaded from MariaDB and the unit tests pass
    assert run.entity_rows == {entity: len(v) for entity, v in expected.items()}
    failing = list(run.results.filter(passed=False).values_list("name", "actual"))
    assert failing == []
    assert run.status == RunStatus.PASSED


@pytest.fixture(params=["postgres_mart", "mariadb_mart"])
def server_mart(request):
    return request.getfixturevalue(request.param)


def test_a_server_marts_own_unit_tests_are_counted_while_the_scripts_load(
    server_mart, mapped, tmp_path, monkeypatch
):
    # Given a Mart on a database server, and a way to see when its side of the unit tests counts
    plan = build_plan(engagement=mapped)
    counted_on_mart, loaded = threading.Event(), threading.Event()
    counting = engine._Side._count
    counted_after_load = []

    def count(side, checks):
        counting(side, checks)
        if side.read_only is not None:
            counted_on_mart.set()
            if loaded.is_set():
                counted_after_load.append(checks)

    monkeypatch.setattr(engine._Side, "_count", count)
    scripts_ran = engine.run_scripts
    asked_during_load = []

    def run_scripts(*args, **kwargs):
        # the scripts do not finish before the Mart has counted beside them
        asked_during_load.append(counted_on_mart.wait(timeout=60))
        try:
            return scripts_ran(*args, **kwargs)
        finally:
            loaded.set()

    monkeypatch.setattr(engine, "run_scripts", run_scripts)

    # When the test run loads the target and runs its unit tests
    (tmp_path / "ahead").mkdir()
    outcome = engine.run(plan, _options(server_mart, tmp_path / "ahead"))

    # Then the Mart's side was counted while the scripts were loading, and not asked again after
    assert asked_during_load == [True]
    assert counted_after_load == []
    # And every unit test says what it says when the Mart is counted after the load
    monkeypatch.setattr(engine, "SERVER_ENGINES", set())
    monkeypatch.setattr(engine, "run_scripts", scripts_ran)
    (tmp_path / "after").mkdir()
    after = engine.run(plan, _options(server_mart, tmp_path / "after"))
    assert [(r.check.name, r.passed, r.actual) for r in outcome.results] == [
        (r.check.name, r.passed, r.actual) for r in after.results
    ]
    assert any(r.check.on_source for r in outcome.results)


def test_on_a_server_target_the_scanned_checks_are_counted_beside_those_asked_one_by_one(
    postgres_mart, mapped, monkeypatch
):
    # Given a PostgreSQL Mart loaded into an interface schema of the same server, and a way to
    # see whether the target's scans wait for the checks that need a query each
    plan = build_plan(engagement=mapped)
    interface = unique_schema("etl_beside")
    asking_one_by_one = threading.Event()
    scanned_beside = []
    counting, asking = engine._Side._count, engine._Side.ask_each

    def count(side, checks):
        if side.read_only is None:  # the target's side
            scanned_beside.append(asking_one_by_one.wait(timeout=60))
        counting(side, checks)

    def ask_each(side, checks, sides):
        asking_one_by_one.set()
        asking(side, checks, sides)

    monkeypatch.setattr(engine._Side, "_count", count)
    monkeypatch.setattr(engine._Side, "ask_each", ask_each)
    options = engine.RunOptions(
        source_url=PG_URL,
        target_url=PG_URL,
        source_schema=postgres_mart["schema"],
        target_schema=interface,
    )
    admin = sa.create_engine(PG_URL)
    try:
        # When the test run loads the target and runs its unit tests
        outcome = engine.run(plan, options)

        # Then the target's scans ran while the one-by-one checks were being asked
        assert scanned_beside and all(scanned_beside)
        # And every unit test says what it says when the two are counted one after the other
        monkeypatch.setattr(engine, "SERVER_ENGINES", set())
        monkeypatch.setattr(engine._Side, "_count", counting)
        after = engine.run(plan, options)
        assert [(r.check.name, r.passed, r.actual, r.samples) for r in outcome.results] == [
            (r.check.name, r.passed, r.actual, r.samples) for r in after.results
        ]
        assert any(r.check.violations is not None and not r.check.on_source for r in after.results)
    finally:
        drop_schema(admin, interface)
        admin.dispose()
