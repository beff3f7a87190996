"""Stories of the generated SQL: built from the mapping's sqlglot trees, rendered for seven
dialects, and — on SQLite and PostgreSQL — loading exactly the rows an independent computation
expects."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3

import pytest
import sqlalchemy as sa
import sqlglot
from sqlglot import exp

from exports.etl import sql
from exports.etl.plan import build_plan
from exports.services.etl import etl_generate
from mappings.snapshot import content_hash, spec_snapshot

from .expected import PRIMARY_KEYS, comparable, expected_rows
from .pgmart import PG_URL, copy_mart, drop_schema, unique_schema

LOAD_ORDER = ["customer", "campaign", "customer_address", "subscription", "email_event"]


def test_every_dialect_renders_sql_that_parses_back(mapped, etl, tmp_path):
    # Given a fully mapped engagement
    for dialect in sql.DIALECTS:
        # When the ETL is generated for the dialect
        out = tmp_path / dialect
        manifest = etl_generate(engagement=mapped, dialect=dialect, out=out, acting_user=etl)
        # Then every SQL file parses back with sqlglot for the same dialect
        sql_files = sorted((out / "sql").glob("*.sql"))
        assert [p.name for p in sql_files] == [
            "00_create_interface.sql",
            *[f"{n:02d}_{name}.sql" for n, name in enumerate(LOAD_ORDER, start=1)],
        ]
        for path in [*sql_files, out / "tests" / "unit_tests.sql"]:
            statements = [s for s in sqlglot.parse(path.read_text(), read=dialect) if s]
            assert statements, path
        inserts = [sqlglot.parse_one(p.read_text(), read=dialect) for p in sql_files[1:]]
        assert all(isinstance(s, exp.Insert) for s in inserts)
        assert manifest["dialect"] == dialect
        assert manifest["load_order"] == LOAD_ORDER


def test_manifest_and_layout(mapped, etl, tmp_path):
    manifest = etl_generate(engagement=mapped, dialect="postgres", out=tmp_path, acting_user=etl)
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk == manifest
    # no spec version submitted yet: a draft, stamped with the working mapping's hash
    assert manifest["spec_version"] is None
    assert manifest["approved"] is False
    assert manifest["content_hash"] == content_hash(spec_snapshot(engagement=mapped))
    assert manifest["skipped"] == {}
    for name in manifest["files"]:
        assert (tmp_path / name).is_file(), name
    assert {
        "dbt/dbt_project.yml",
        "dbt/models/sources.yml",
        "dbt/models/schema.yml",
        "dbt/models/if_customer.sql",
        "airflow/acme_360_daily_dag.py",  # one DAG per schedule: the demo's events are hourly
        "airflow/acme_360_cron_0_x_x_x_x_dag.py",
        "docs/etl_job_design.md",
        "tests/unit_tests.sql",
        "tests/mart_checks.sql",
    } <= set(manifest["files"])


def test_the_ddl_carries_types_not_null_primary_and_foreign_keys(mapped):
    plan = build_plan(engagement=mapped)
    ddl = sql.render(
        sql.create_table(plan.entity("customer_address"), dialect="postgres"), "postgres"
    )
    create = sqlglot.parse_one(ddl, read="postgres")
    columns = {c.name: c for c in create.find_all(exp.ColumnDef)}
    assert columns["address_id"].args["kind"].sql("postgres") == "VARCHAR(36)"
    assert columns["country_code"].args["kind"].sql("postgres") == "CHAR(2)"
    assert columns["is_primary"].args["kind"].sql("postgres") == "BOOLEAN"
    assert columns["city"].find(exp.NotNullColumnConstraint)
    assert not columns["line_2"].find(exp.NotNullColumnConstraint)
    assert [i.name for i in create.find(exp.PrimaryKey).expressions] == ["address_id"]
    foreign = create.find(exp.ForeignKey)
    assert [i.name for i in foreign.expressions] == ["customer_id"]
    assert foreign.args["reference"].find(exp.Table).name == "if_customer"


def test_the_insert_wraps_rules_in_coalesce_and_cast(mapped):
    plan = build_plan(engagement=mapped)
    insert = sql.insert_tree(plan.entity("customer_address"))
    text = sql.render(insert, "postgres", pretty=False)
    assert (
        "CAST(COALESCE(CASE UPPER(ad.country_code) WHEN 'UK' THEN 'GB' ELSE "
        "UPPER(ad.country_code) END, 'GB') AS CHAR(2)) AS country_code" in text
    )
    assert text.startswith("INSERT INTO if_customer_address (address_id, customer_id,")
    assert text.endswith("FROM crm_customer_address AS ad")
    events = sql.render(sql.insert_tree(plan.entity("email_event")), "postgres", pretty=False)
    assert events.endswith(
        "FROM mkt_email_event AS e WHERE NOT e.customer_id IS NULL AND NOT e.campaign_id IS NULL"
    )


def test_an_entity_not_fully_mapped_is_left_out_with_its_reason(demo_mapped, etl, tmp_path):
    # Given the demo mapping, where subscription's plan, status and start date are not mapped
    manifest = etl_generate(engagement=demo_mapped, dialect="sqlite", out=tmp_path, acting_user=etl)
    # Then the other entities are generated and subscription is named with the reason
    assert manifest["load_order"] == ["customer", "campaign", "customer_address", "email_event"]
    assert manifest["skipped"] == {
        "subscription": "The required attribute plan_code has no rule and no default."
    }
    design = (tmp_path / "docs" / "etl_job_design.md").read_text()
    assert (
        "- **subscription**: The required attribute plan_code has no rule and no default." in design
    )


def test_no_published_contract_is_refused(engagement, etl, tmp_path):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        etl_generate(engagement=engagement, dialect="sqlite", out=tmp_path, acting_user=etl)
    assert refused.value.messages == [
        "There is no published contract: publish the Interface Layer first."
    ]


def _assert_loaded_as_expected(loaded: dict[str, list[dict]], expected: dict) -> None:
    for entity, rows in loaded.items():
        key = PRIMARY_KEYS[entity]
        got = {row[key]: comparable(row) for row in rows}
        assert len(got) == len(rows), entity
        assert set(got) == set(expected[entity]), entity
        for pk, row in expected[entity].items():
            assert got[pk] == row, (entity, pk)


def test_the_generated_sql_loads_exactly_the_expected_rows_on_sqlite(
    mapped, etl, tmp_path, demo_mart_file
):
    # Given the generated SQLite scripts and a copy of the Mart
    etl_generate(engagement=mapped, dialect="sqlite", out=tmp_path / "etl", acting_user=etl)
    database = tmp_path / "mart.sqlite3"
    shutil.copy(demo_mart_file, database)
    # When the scripts run in file order
    db = sqlite3.connect(database)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    for path in sorted((tmp_path / "etl" / "sql").glob("*.sql")):
        db.executescript(path.read_text())
    plan = build_plan(engagement=mapped)
    loaded = {
        e.name: [dict(r) for r in db.execute(f"SELECT * FROM {e.table}")] for e in plan.loadable
    }
    db.close()
    # Then the rows and values are those computed independently from the Mart
    expected = expected_rows(demo_mart_file, unicode_case=False)
    assert {e: len(rows) for e, rows in loaded.items()} == {
        e: len(rows) for e, rows in expected.items()
    }
    _assert_loaded_as_expected(loaded, expected)


def test_the_shipped_checks_run_where_they_belong(mapped, etl, tmp_path, demo_mart_file):
    """tests/unit_tests.sql runs after the load, each query answering a count; tests/mart_checks.sql
    runs on the Mart alone (the rules' results before any cast, the values the field-value tests
    compare with the interface tables)."""
    etl_generate(engagement=mapped, dialect="sqlite", out=tmp_path / "etl", acting_user=etl)
    pristine, loaded = tmp_path / "mart.sqlite3", tmp_path / "loaded.sqlite3"
    shutil.copy(demo_mart_file, pristine)
    shutil.copy(demo_mart_file, loaded)
    with sqlite3.connect(loaded) as db:
        for path in sorted((tmp_path / "etl" / "sql").glob("*.sql")):
            db.executescript(path.read_text())

    def counts(database, name: str) -> list:
        text = (tmp_path / "etl" / "tests" / name).read_text()
        with sqlite3.connect(database) as db:
            # SQLite parses `x REGEXP p` but leaves the function to the application, as the file's
            # header says; the workbench's own runs register the same one.
            db.create_function(
                "regexp", 2, lambda p, v: v is not None and re.search(p, v) is not None
            )
            return [
                db.execute(statement.sql("sqlite")).fetchone()[0]
                for statement in sqlglot.parse(text, read="sqlite")
                if statement
            ]

    counts(pristine, "mart_checks.sql")  # runs on the Mart alone
    on_target = counts(loaded, "unit_tests.sql")
    assert on_target and [n for n in on_target if not isinstance(n, int)] == []
    assert "if_customer" not in (tmp_path / "etl" / "tests" / "mart_checks.sql").read_text()


@pytest.mark.postgres
def test_the_generated_sql_loads_exactly_the_expected_rows_on_postgresql(
    require_postgres, mapped, etl, tmp_path, demo_mart_file
):
    # Given the demo Mart in a PostgreSQL schema of its own
    engine = sa.create_engine(PG_URL)
    schema = unique_schema("etl_sql")
    try:
        copy_mart(demo_mart_file, engine, schema)
        etl_generate(engagement=mapped, dialect="postgres", out=tmp_path, acting_user=etl)
        # When the generated scripts run there (foreign keys enforced)
        with engine.begin() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # no parameters: '%' stays
            cursor.execute(f'SET search_path TO "{schema}"')  # the files COMMIT: not LOCAL
            for path in sorted((tmp_path / "sql").glob("*.sql")):
                cursor.execute(path.read_text())
        with engine.connect() as conn:
            plan = build_plan(engagement=mapped)
            loaded = {
                e.name: [
                    dict(r._mapping)
                    for r in conn.exec_driver_sql(f'SELECT * FROM "{schema}".{e.table}')
                ]
                for e in plan.loadable
            }
        # Then the rows and values are those computed independently (the rules keep SQLite's
        # ASCII-only LOWER/UPPER on PostgreSQL)
        _assert_loaded_as_expected(loaded, expected_rows(demo_mart_file, unicode_case=False))
    finally:
        drop_schema(engine, schema)
        engine.dispose()
