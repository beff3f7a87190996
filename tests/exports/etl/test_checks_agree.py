"""One list of checks, three renderings that agree: on a deliberately broken mapping of the demo,
the test run's unit tests, tests/unit_tests.sql executed as shipped on the loaded target, and
`datacontract test` (datacontract-cli, with the contract `export_contract` writes) name the same
failing checks, as (entity, attribute, kind) — on DuckDB and on PostgreSQL.

The test run executes the shipped scripts with every constraint: a duplicate key or an orphan makes
the entity's load fail, and the run checks that entity's extraction instead (the rows at fault).
The client's tools are shown the other case, the one only checks can catch: the same load scripts
run as shipped into interface tables without key constraints, as engines that declare keys without
enforcing them (Snowflake, BigQuery, Databricks) hold them — the duplicate key and the orphan land.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import ExitStack
from io import StringIO
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from django.core.management import call_command
from sqlglot import exp

from exports.etl import sql
from exports.etl.plan import EtlPlan, build_plan
from exports.etl.unit_tests import parse_checks
from exports.services.etl import etl_generate
from exports.testrun import engine
from mappings.models import EntityMapping
from mappings.services import mapping as services
from tests.conftest import require_module

from .pgmart import copy_mart, scratch_database

DATACONTRACT = Path(sys.executable).with_name("datacontract")
LONG = "x" * 100

# The breaks, each a rule an analyst could write (entity → attribute → (rule, default)).
BREAKS = {
    # the demo's own first rule: every campaign without a code gets the same one
    "campaign": {
        "campaign_code": ("m.campaign_code", "UNKNOWN"),
        "channel": ("LOWER(m.channel_code)", ""),  # 'eml', 'pse', 'dm': not in the list
    },
    # events 1 and 2 share a primary key
    "email_event": {
        "event_id": (
            "CASE WHEN e.event_id = 2 THEN '1' ELSE CAST(e.event_id AS TEXT) END",
            "",
        )
    },
    # a key no customer has: every address is an orphan
    "customer_address": {"customer_id": ("'X-' || CAST(ad.customer_id AS TEXT)", "")},
    "customer": {
        "phone": ("c.phone", ""),  # the Mart's formats, not E.164
        # names of customers 1, 11, 21, … grow past the contract's 100 characters
        "first_name": (
            f"CASE WHEN c.customer_id % 10 = 1 THEN TRIM(c.first_name) || '{LONG}' "
            "ELSE TRIM(c.first_name) END",
            "",
        ),
    },
}

# What every rendering must report (target side), whatever the engine.
BROKEN = {
    ("email_event", "event_id", "primary_key"),
    ("campaign", "campaign_code", "unique"),
    ("campaign", "channel", "allowed_values"),
    ("customer_address", "customer_id", "foreign_key"),
    ("customer", "phone", "pattern"),
}

# datacontract-cli check types → our kinds (`unique` of a one-column primary key: its key check)
THEIR_KINDS = {
    "field_required": "not_null",
    "field_primary_key_required": "not_null",
    "field_unique": "unique",
    "field_primary_key_unique": "primary_key",
    "primary_key_unique": "primary_key",
    "field_relationships": "foreign_key",
    "field_invalid_values": "allowed_values",
    "field_enum": "allowed_values",
    "field_regex": "pattern",
    "field_max_length": "max_length",
    "field_min_length": "min_length",
    "field_minimum": "minimum",
    "field_maximum": "maximum",
}


def break_mapping(engagement, user) -> None:
    for entity_name, rules in BREAKS.items():
        entity = EntityMapping.objects.get(engagement=engagement, entity_name=entity_name)
        for attribute_name, (rule, default) in rules.items():
            services.attribute_mapping_update(
                attribute_mapping=entity.attributes.get(attribute_name=attribute_name),
                data={"transformation": rule, "default_value": default},
                acting_user=user,
            )


def _unkeyed(create: exp.Create) -> exp.Create:
    """The shipped CREATE TABLE without its key constraints (types and NOT NULL kept)."""
    schema = create.this
    schema.set("expressions", [e for e in schema.expressions if isinstance(e, exp.ColumnDef)])
    for column in schema.expressions:
        kept = [c for c in column.constraints if isinstance(c.kind, exp.NotNullColumnConstraint)]
        column.set("constraints", kept)
    return create


def create_unkeyed_tables(url: str, plan: EtlPlan, dialect: str) -> None:
    target = sa.create_engine(url)
    with target.begin() as conn:
        for entity in plan.loadable:
            create = _unkeyed(sql.create_table(entity, dialect=dialect))
            conn.exec_driver_sql(sql.render(create, dialect, pretty=False))
    target.dispose()


def connect(url: str):
    """A DB-API connection to the target, as a client's SQL runner holds one: each statement of a
    file on its own, the files' own BEGIN and COMMIT deciding the transactions."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "duckdb":
        return require_module("duckdb").connect(parsed.database)
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return require_module("psycopg").connect(plain, autocommit=True)


def run_load_scripts(url: str, etl: Path) -> None:
    """The generated load and purge scripts, in file order, each file as one text (the table
    definitions of sql/00 are the caller's)."""
    connection = connect(url)
    try:
        for path in sorted((etl / "sql").glob("*.sql"))[1:]:
            connection.execute(path.read_text())
    finally:
        connection.close()


def shipped_failures(url: str, text: str) -> tuple[set, int]:
    """Run every query of tests/unit_tests.sql as the file holds it (the DB-API, no parameters):
    the checks whose count is not 0, and how many ran."""
    checks = parse_checks(text)
    connection = connect(url)
    failing = set()
    try:
        for check in checks:
            count = connection.execute(check.sql).fetchone()[0]
            assert isinstance(count, int), check.key
            if count:
                failing.add((check.entity, check.attribute, check.kind))
    finally:
        connection.close()
    return failing, len(checks)


def datacontract_failures(
    engagement, tmp_path: Path, server: dict, plan: EtlPlan, env: dict | None = None
) -> set:
    """`datacontract test` of the exported contract against the target, its failed checks as
    (entity, attribute, our kind)."""
    exported = tmp_path / "exported.odcs.yaml"
    call_command(
        "export_contract", "--engagement", engagement.slug, "-o", str(exported), stdout=StringIO()
    )
    document = yaml.safe_load(exported.read_text())
    document["servers"] = [{"server": "target", **server}]
    contract = tmp_path / "contract.odcs.yaml"
    contract.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    results = tmp_path / "datacontract.json"
    done = subprocess.run(
        [str(DATACONTRACT), "test", str(contract), "--server", "target"]
        + ["--output", str(results), "--output-format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
    )
    assert results.exists(), done.stdout[-4000:] + done.stderr[-2000:]
    run = json.loads(results.read_text())
    entities = {e.table: e.name for e in plan.entities}
    keys = {(e.name, e.primary_key[0]) for e in plan.entities if len(e.primary_key) == 1}
    assert {e.table for e in plan.loadable} <= {check["model"] for check in run["checks"]}
    failed = set()
    for check in run["checks"]:
        assert check["result"] in ("passed", "failed"), (check, done.stdout[-4000:])
        if check["result"] == "failed":
            kind = THEIR_KINDS.get(check["type"], check["type"])
            attribute = check.get("field") or ", ".join(check.get("columns") or [])
            entity = entities.get(check["model"], check["model"])
            if kind == "unique" and (entity, attribute) in keys:
                kind = "primary_key"
            failed.add((entity, attribute, kind))
    return failed


@pytest.fixture
def broken(mapped, ba):
    break_mapping(mapped, ba)
    return mapped


@pytest.fixture
def duckdb_targets(tmp_path, demo_mart_file):
    """A new DuckDB file holding the Mart, per call: (its URL, datacontract's server block)."""
    require_module("duckdb_engine")

    def target(name: str) -> tuple[str, dict, dict]:
        path = tmp_path / f"{name}.duckdb"
        url = f"duckdb:///{path}"
        mart = sa.create_engine(url)
        copy_mart(demo_mart_file, mart, None)
        mart.dispose()
        return url, {"type": "duckdb", "database": str(path), "schema": "main"}, {}

    return target


@pytest.fixture
def postgres_targets(require_postgres, demo_mart_file):
    """A scratch PostgreSQL database holding the Mart, per call (all dropped afterwards)."""
    with ExitStack() as databases:

        def target(name: str) -> tuple[str, dict, dict]:
            url = databases.enter_context(scratch_database(f"checks_{name}"))
            mart = sa.create_engine(url)
            copy_mart(demo_mart_file, mart, None)
            mart.dispose()
            parsed = sa.make_url(url)
            server = {
                "type": "postgres",
                "host": parsed.host,
                "port": parsed.port or 5432,
                "database": parsed.database,
                "schema": "public",
            }
            env = {
                "DATACONTRACT_POSTGRES_USERNAME": parsed.username or "postgres",
                # datacontract-cli insists on a password; the test server's trust auth ignores it
                "DATACONTRACT_POSTGRES_PASSWORD": parsed.password or "unused",
            }
            return url, server, env

        yield target


@pytest.mark.parametrize("engine_name", ["duckdb", "postgres"])
def test_our_checks_the_shipped_sql_and_datacontract_fail_the_same_checks(
    engine_name, broken, etl, request, tmp_path
):
    targets = request.getfixturevalue(f"{engine_name}_targets")
    dialect = {"duckdb": "duckdb", "postgres": "postgres"}[engine_name]
    plan = build_plan(engagement=broken)

    # When the test run loads the broken mapping with every constraint and runs our unit tests
    keyed, _, _ = targets("keyed")
    outcome = engine.run(plan, engine.RunOptions(source_url=keyed, target_url=keyed))
    failed = {(r.check.entity, r.check.attribute, r.check.kind) for r in outcome.failed}
    # Then the constraints refused the duplicate keys and the orphans (and the events, whose
    # campaigns were refused with them)
    refused = {(e, a) for e, a, kind in failed if kind == "load"}
    assert refused == {("campaign", ""), ("customer_address", ""), ("email_event", "")}

    # When the same load scripts run as shipped into tables that declare no keys
    unkeyed, server, env = targets("unkeyed")
    etl_generate(engagement=broken, dialect=dialect, out=tmp_path / "etl", acting_user=etl)
    create_unkeyed_tables(unkeyed, plan, dialect)
    run_load_scripts(unkeyed, tmp_path / "etl")
    # And tests/unit_tests.sql runs there as shipped
    text = (tmp_path / "etl" / "tests" / "unit_tests.sql").read_text()
    shipped, ran = shipped_failures(unkeyed, text)
    # And datacontract-cli tests the exported contract against it
    theirs = datacontract_failures(broken, tmp_path, server, plan, env)

    # Then the three name the same failing checks
    on_target = {
        (r.check.entity, r.check.attribute, r.check.kind)
        for r in outcome.failed
        if not r.check.on_source and r.check.kind not in ("field_values", "load")
    }
    target_side = [r for r in outcome.results if r.check.kind != "load" and not r.check.on_source]
    assert ran == len([r for r in target_side if r.check.violations is not None])
    too_long = {("customer", "first_name", "max_length")}
    # DuckDB keeps the whole value (VARCHAR(n) declares no limit there); PostgreSQL's CAST to
    # VARCHAR(100) cuts it to 100 characters, so the loaded table holds no value too long
    expected = BROKEN | (too_long if engine_name == "duckdb" else set())
    assert on_target == expected
    assert shipped == expected
    assert theirs == expected
    # And only our checks that read the Mart see the value the cast cut (datacontract reads the
    # target alone): the rule's result does not fit, and on PostgreSQL what was loaded differs
    # from the rule's value (the field-value check compares them)
    mart_side = failed - on_target - {(e, a, "load") for e, a in refused}
    # (the field-value check matches the Mart's rows to the loaded ones by key: of two events
    # sharing one, the loaded row differs from the other's values; the key check names the cause)
    shared_key = {f for f in mart_side if f[0] == "email_event" and f[2] == "field_values"}
    assert mart_side - shared_key == {("customer", "first_name", "fits_before_cast")} | (
        {("customer", "first_name", "field_values")} if engine_name == "postgres" else set()
    )
