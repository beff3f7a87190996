"""The demo's own mapping, as load_demo writes it, is clean: the files `generate_etl` ships for
PostgreSQL load the demo Mart with every constraint of the contract when an ETL developer runs them
with psql, in file order, stopping at the first error — the first day, the same day again and the
next day after the Mart changed; the rows are those computed independently in Python each time;
and the workbench's own test run passes every unit test on each engine it loads."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from exports.etl.plan import build_plan
from exports.services.etl import etl_generate
from exports.services.testrun import etl_run_execute
from exports.testrun.choices import RunStatus
from exports.testrun.engine import RunOptions

from ...conftest import missing_service
from .expected import PRIMARY_KEYS, comparable, expected_rows
from .mart_changes import next_day_statements
from .pgmart import PG_URL, copy_mart

MART_SCHEMA = "acme_mart"


@pytest.fixture
def scratch_pg(require_postgres):
    """A PostgreSQL database of its own (named after this branch), dropped afterwards."""
    if shutil.which("psql") is None:
        missing_service("the psql client is not installed")
    name = f"wt_demo_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name)
    engine = sa.create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _psql(engine: sa.Engine, path) -> subprocess.CompletedProcess:
    """`psql -v ON_ERROR_STOP=1 -f FILE`, as an ETL developer runs a shipped file."""
    url = engine.url
    env = {
        **os.environ,
        "PGHOST": url.host or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "postgres",
        "PGDATABASE": url.database or "",
        # the Mart's tables live in their own schema; the interface tables are created there too
        "PGOPTIONS": f"-c search_path={MART_SCHEMA}",
    }
    return subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.postgres
def test_the_shipped_postgresql_files_load_the_demo_with_all_constraints(
    scratch_pg, demo_mapped, etl, tmp_path, demo_mart_file
):
    # Given the demo Mart in a scratch PostgreSQL database and the ETL the demo mapping generates
    copy_mart(demo_mart_file, scratch_pg, MART_SCHEMA)
    etl_generate(engagement=demo_mapped, dialect="postgres", out=tmp_path, acting_user=etl)
    files = sorted((tmp_path / "sql").glob("*.sql"))
    assert files[0].name == "00_create_interface.sql"

    # When each file runs with psql, in file order, stopping at the first error — and the whole
    # set again, as the same day's second run
    for _day_run in ("first", "same day again"):
        for path in files:
            done = _psql(scratch_pg, path)
            # Then every file succeeds: no foreign-key, unique or not-null violation anywhere
            # (the second CREATE TABLE IF NOT EXISTS only notices the tables are there)
            assert (path.name, done.returncode) == (path.name, 0), done.stderr
            assert "ERROR" not in done.stderr

    # And the interface tables carry the contract's constraints, foreign keys included
    plan = build_plan(engagement=demo_mapped)
    inspector = sa.inspect(scratch_pg)
    parents = {
        e.table: {fk["referred_table"] for fk in inspector.get_foreign_keys(e.table, MART_SCHEMA)}
        for e in plan.loadable
    }
    assert parents["if_customer_address"] == {"if_customer"}
    assert parents["if_email_event"] == {"if_customer", "if_campaign"}

    # And the rows are those computed from the Mart in Python (the rules keep SQLite's ASCII-only
    # LOWER/UPPER on PostgreSQL), the second run having changed nothing
    loaded = _interface(scratch_pg, plan)
    assert loaded == _expected(demo_mart_file, plan)
    # churned customers are loaded (their addresses point at them), phones in E.164 or NULL
    customers = loaded["customer"].values()
    assert {c["lifecycle_stage"] for c in customers} == {"churned", "active", "lapsed", "prospect"}
    assert {c["phone"] is None for c in customers} == {True, False}

    # When the Mart changes overnight (a changed e-mail, a new campaign with an event, a customer
    # deleted with their addresses) — the same changes in a copy the Python computation reads —
    # and the files run again the next day
    next_day = tmp_path / "mart-next-day.sqlite3"
    shutil.copy(demo_mart_file, next_day)
    for statement in next_day_statements(next_day):
        with sqlite3.connect(next_day) as db:
            db.execute(statement)
        with scratch_pg.begin() as conn:
            conn.exec_driver_sql(f"SET search_path = {MART_SCHEMA}")
            conn.exec_driver_sql(statement)
    for path in files:
        done = _psql(scratch_pg, path)
        assert (path.name, done.returncode) == (path.name, 0), done.stderr
    # Then the interface equals a fresh computation over the changed Mart
    assert _interface(scratch_pg, plan) == _expected(next_day, plan)


def _interface(engine: sa.Engine, plan) -> dict[str, dict]:
    with engine.connect() as conn:
        return {
            entity.name: {
                row[PRIMARY_KEYS[entity.name]]: comparable(dict(row))
                for row in conn.exec_driver_sql(
                    f"SELECT * FROM {MART_SCHEMA}.{entity.table}"
                ).mappings()
            }
            for entity in plan.loadable
        }


def _expected(mart, plan) -> dict[str, dict]:
    expected = expected_rows(mart, unicode_case=False)
    return {entity.name: expected[entity.name] for entity in plan.loadable}


def _target(kind: str, tmp_path, request) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'interface.sqlite3'}", None
    if kind == "duckdb":
        return f"duckdb:///{tmp_path / 'interface.duckdb'}", None
    request.getfixturevalue("require_postgres")
    schema = f"wt_demo_if_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    engine = sa.create_engine(PG_URL)

    def drop():
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()

    request.addfinalizer(drop)
    return PG_URL, schema


@pytest.mark.parametrize(
    "kind", ["sqlite", "duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_demo_mapping_passes_all_its_own_unit_tests_on_each_engine(
    kind, demo_mapped, etl, tmp_path, demo_mart_file, request
):
    # Given the demo mapping exactly as load_demo writes it, and a target of each engine
    target_url, target_schema = _target(kind, tmp_path, request)
    # When the ETL developer runs the unit tests on the demo Mart
    run = etl_run_execute(
        engagement=demo_mapped,
        options=RunOptions(
            source_url=f"sqlite:///{demo_mart_file}",
            target_url=target_url,
            target_schema=target_schema,
        ),
        acting_user=etl,
    )
    # Then every test passes, the record counts, the foreign keys and the field values too: the
    # rules keep the Mart's meaning on every engine (SQLite's LOWER leaves 'É' as it is, and so
    # does the shipped SQL on DuckDB and PostgreSQL)
    failing = run.results.filter(passed=False)
    assert [(r.name, r.actual, r.sample_rows[:2]) for r in failing] == []
    assert run.status == RunStatus.PASSED
    kinds = set(run.results.values_list("test_type", flat=True))
    assert {"record_count", "foreign_key", "field_value"} <= kinds
