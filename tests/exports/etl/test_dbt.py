"""Stories of the generated dbt project run for real: `dbt build` on DuckDB (dbt-duckdb) and on
PostgreSQL (dbt-postgres) with the profile example as shipped, twice on the same day and once
more after the Mart changed overnight, each time compared with an independent computation; and a
deliberately broken mapping, where dbt's tests fail exactly where our unit tests fail."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from exports.etl.dbt import INCREMENTAL_STRATEGY, strategy
from exports.etl.plan import build_plan
from exports.services.etl import etl_generate
from exports.testrun import engine as testrun
from mappings.models import EntityMapping
from mappings.services import mapping as services

from ...conftest import require_module
from .expected import PRIMARY_KEYS, comparable, expected_rows
from .pgmart import PG_URL, copy_mart

DBT = Path(sys.executable).parent / "dbt"
MART = "mart"  # the schema the Mart is copied into, beside the interface's
INTERFACE = {"duckdb": "main", "postgres": "interface"}


# --- the warehouse: the Mart and the interface in one DuckDB file or PostgreSQL database --------


@dataclass
class Warehouse:
    kind: str  # duckdb | postgres
    env: dict = field(default_factory=dict)
    path: Path | None = None  # DuckDB
    database: str = ""  # PostgreSQL

    @property
    def url(self) -> str:
        if self.kind == "duckdb":
            return f"duckdb:///{self.path}"
        return PG_URL.rsplit("/", 1)[0] + f"/{self.database}"

    def load_mart(self, mart_path: Path) -> None:
        """The Mart's tables (as they are today) into the schema `mart`, replacing yesterday's."""
        if self.kind == "duckdb":
            _copy_mart_to_duckdb(mart_path, self.path, MART)
            return
        engine = sa.create_engine(self.url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{MART}" CASCADE')
        copy_mart(mart_path, engine, MART)
        engine.dispose()

    def rows(self, table: str) -> list[dict]:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                result = conn.execute(
                    sa.select(sa.text("*")).select_from(
                        sa.table(table, schema=INTERFACE[self.kind])
                    )
                )
                return [dict(r._mapping) for r in result]
        finally:
            engine.dispose()


def _copy_mart_to_duckdb(mart_path: Path, duckdb_path: Path | None, schema: str) -> None:
    duckdb = require_module("duckdb")
    source = sqlite3.connect(mart_path)
    target = duckdb.connect(str(duckdb_path))
    target.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    target.execute(f'CREATE SCHEMA "{schema}"')
    for (table,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = list(source.execute(f'PRAGMA table_info("{table}")'))
        types = {c[1]: _duckdb_type(c[2]) for c in columns}
        definition = ", ".join(f'"{n}" {t}' for n, t in types.items())
        target.execute(f'CREATE TABLE "{schema}"."{table}" ({definition})')
        rows = source.execute(f'SELECT * FROM "{table}"').fetchall()
        if rows:
            marks = ", ".join("?" * len(columns))
            target.executemany(f'INSERT INTO "{schema}"."{table}" VALUES ({marks})', rows)
    target.close()
    source.close()


def _duckdb_type(declared: str) -> str:
    declared = declared.upper()
    if declared.startswith("INT"):
        return "BIGINT"
    return declared if declared.startswith("NUMERIC") else "VARCHAR"


@pytest.fixture
def duckdb_warehouse(tmp_path):
    require_module("duckdb")
    require_module("dbt.adapters.duckdb")
    yield Warehouse(
        kind="duckdb",
        path=tmp_path / "warehouse.duckdb",
        env={"DBT_TARGET": "duckdb", "DBT_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb")},
    )


@pytest.fixture
def postgres_warehouse(require_postgres):
    require_module("dbt.adapters.postgres")
    database = f"wt_dbt_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    server = sa.engine.make_url(PG_URL)
    yield Warehouse(
        kind="postgres",
        database=database,
        env={
            "DBT_TARGET": "postgres",
            "DBT_PG_HOST": server.host or "127.0.0.1",
            "DBT_PG_PORT": str(server.port or 5432),
            "DBT_PG_USER": server.username or "postgres",
            "DBT_PG_DATABASE": database,
            "DBT_SCHEMA": INTERFACE["postgres"],
        },
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request):
    return request.getfixturevalue(f"{request.param}_warehouse")


# --- running dbt ----------------------------------------------------------------------------------


def dbt(
    project: Path, warehouse: Warehouse, *arguments: str, variables: dict | None = None
) -> subprocess.CompletedProcess:
    """The venv's dbt CLI on the project, with the profile example as shipped (only copied to
    profiles.yml) and the warehouse named by environment variables."""
    if not DBT.exists():
        require_module("dbt.cli")  # fails under CI: dbt-core is a dev dependency
    profiles = project / "profiles.yml"
    if not profiles.exists():
        shutil.copy(project / "profiles.yml.example", profiles)
    env = {
        **os.environ,
        **warehouse.env,
        "DBT_PROFILES_DIR": str(project),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DO_NOT_TRACK": "1",
    }
    return subprocess.run(
        [
            str(DBT),
            *arguments,
            "--project-dir",
            str(project),
            "--vars",
            json.dumps({"mart_schema": MART, **(variables or {})}),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def assert_green(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Completed successfully" in done.stdout
    # dbt 1.11 names deprecated syntax in a warning and a closing summary: there is none
    assert "eprecat" not in done.stdout + done.stderr, done.stdout[-6000:]
    assert "[WARNING]" not in done.stdout, done.stdout[-6000:]


def assert_models_equal(warehouse: Warehouse, plan, expected: dict) -> None:
    """Every interface row equals the independent computation, and no row is missing or extra."""
    for entity in plan.loadable:
        key = PRIMARY_KEYS[entity.name]
        rows = warehouse.rows(entity.table)
        got = {row[key]: comparable(row) for row in rows}
        assert len(got) == len(rows), f"{entity.name}: a key is loaded twice"
        assert set(got) == set(expected[entity.name]), entity.name
        for pk, row in expected[entity.name].items():
            assert got[pk] == row, (entity.name, pk)


# --- the Mart, the next day ---------------------------------------------------------------------


def next_day(mart_path: Path, out: Path) -> dict[str, object]:
    """Yesterday's Mart with today's changes: a new customer with a new campaign and an event at
    the latest timestamp, a changed e-mail address, and a deleted customer (whose addresses,
    subscriptions and events stay in the Mart, as a CRM purge leaves them)."""
    shutil.copy(mart_path, out)
    db = sqlite3.connect(out)
    open_customers = (
        "SELECT customer_id FROM crm_customer c WHERE COALESCE(UPPER(status), 'ACTIVE') <> "
        "'CLOSED' AND EXISTS (SELECT 1 FROM mkt_email_event e WHERE e.customer_id = "
        "c.customer_id AND e.campaign_id IS NOT NULL) AND EXISTS (SELECT 1 FROM "
        "crm_customer_address a WHERE a.customer_id = c.customer_id) ORDER BY customer_id"
    )
    deleted, changed = [r[0] for r in db.execute(open_customers).fetchmany(2)]
    db.execute("DELETE FROM crm_customer WHERE customer_id = ?", (deleted,))
    db.execute(
        "UPDATE crm_customer SET email = 'Renamed.Person@Example.com' WHERE customer_id = ?",
        (changed,),
    )
    new_customer = db.execute("SELECT MAX(customer_id) + 1 FROM crm_customer").fetchone()[0]
    db.execute(
        "INSERT INTO crm_customer (customer_id, source_customer_ref, first_name, last_name, email, "
        "phone, birth_date, gender, status, created_at, updated_at) VALUES (?, ?, 'Ada', 'New', "
        "'ada.new@example.com', '07700900123', '1990-02-03', 'F', 'ACTIVE', "
        "'2026-01-02 08:00:00', NULL)",
        (new_customer, f"CRM-NEW-{new_customer}"),
    )
    new_campaign = db.execute("SELECT MAX(campaign_id) + 1 FROM mkt_campaign").fetchone()[0]
    db.execute(
        "INSERT INTO mkt_campaign (campaign_id, campaign_code, campaign_name, channel_code, "
        "channel_group, start_date, end_date, budget_gbp, owner_email) VALUES (?, ?, "
        "'New Year 2026', 'EML', 'Owned', '2026-01-01', NULL, 1234.50, NULL)",
        (new_campaign, f"CMP-2026-{new_campaign:03d}"),
    )
    latest = db.execute("SELECT MAX(event_ts) FROM mkt_email_event").fetchone()[0]
    later = (dt.datetime.fromisoformat(latest) + dt.timedelta(hours=1)).isoformat()
    new_event = db.execute("SELECT MAX(event_id) + 1 FROM mkt_email_event").fetchone()[0]
    db.execute(
        "INSERT INTO mkt_email_event (event_id, customer_id, campaign_id, campaign_code, "
        "event_type, event_ts, email_address, device, link_url) VALUES (?, ?, ?, NULL, 'OPEN', ?, "
        "'ada.new@example.com', 'mobile', NULL)",
        (new_event, new_customer, new_campaign, later),
    )
    db.commit()
    db.close()
    return {"deleted": str(deleted), "changed": str(changed), "new": str(new_customer)}


# --- the stories ----------------------------------------------------------------------------------


def test_dbt_builds_green_twice_then_follows_the_next_day_mart(
    warehouse, mapped, ba, etl, tmp_path, demo_mart_file
):
    # Given the demo mapping (customers merged on their key, events appended by their
    # timestamp) with subscriptions fully refreshed, so that every strategy is built
    subscription = EntityMapping.objects.get(engagement=mapped, entity_name="subscription")
    services.entity_mapping_update(
        entity_mapping=subscription, data={"load_strategy": "full_refresh"}, acting_user=ba
    )
    # And the dbt project generated for the warehouse's dialect, with the demo Mart beside it
    out = tmp_path / "etl"
    etl_generate(engagement=mapped, dialect=warehouse.kind, out=out, acting_user=etl)
    project = out / "dbt"
    plan = build_plan(engagement=mapped)
    assert {e.name: strategy(e) for e in plan.loadable} == {
        "customer": "merge",
        "campaign": "merge",
        "customer_address": "merge",
        "email_event": "append",
        "subscription": "full_refresh",
    }
    warehouse.load_mart(demo_mart_file)
    today = expected_rows(demo_mart_file, unicode_case=False)

    # When dbt builds it (models and tests), and builds it again the same day
    for _run in range(2):
        assert_green(dbt(project, warehouse, "build"))
        # Then every interface row is the one computed independently from the Mart
        assert_models_equal(warehouse, plan, today)

    # When the Mart changes overnight and dbt builds again (incremental models merge)
    tomorrow_file = tmp_path / "mart_next_day.sqlite3"
    changes = next_day(demo_mart_file, tomorrow_file)
    warehouse.load_mart(tomorrow_file)
    done = dbt(project, warehouse, "build")
    assert_green(done)
    # Then the interface equals a fresh computation of the changed Mart
    tomorrow = expected_rows(tomorrow_file, unicode_case=False)
    assert changes["deleted"] not in tomorrow["customer"]
    assert tomorrow["customer"][changes["changed"]]["email"] == "renamed.person@example.com"
    assert changes["new"] in tomorrow["customer"]
    assert_models_equal(warehouse, plan, tomorrow)
    # And the merged and appended entities were incremental models, not rebuilt tables
    incremental = [e for e in plan.loadable if strategy(e) != "full_refresh"]
    assert incremental, "the demo has entities loaded incrementally"
    for entity in incremental:
        assert f"incremental model {INTERFACE[warehouse.kind]}.{entity.table}" in done.stdout


def test_the_project_carries_contracts_descriptions_stamp_and_a_profile_example(
    mapped, etl, tmp_path
):
    # Given the dbt project generated for PostgreSQL
    etl_generate(engagement=mapped, dialect="postgres", out=tmp_path, acting_user=etl)
    project = tmp_path / "dbt"
    plan = build_plan(engagement=mapped)
    stamp = plan.stamp
    # Then every file names the spec's content hash in its header
    for path in project.rglob("*"):
        if path.is_file():
            head = "".join(path.read_text().splitlines(keepends=True)[:3])
            assert stamp.content_hash in head, path
    schema = yaml.safe_load((project / "models" / "schema.yml").read_text())
    customer = next(m for m in schema["models"] if m["name"] == "if_customer")
    # And the model's contract names every column with its PostgreSQL type and its meaning
    columns = {c["name"]: c for c in customer["columns"]}
    attribute = next(c for c in plan.entity("customer").columns if c.name == "email")
    assert columns["email"]["data_type"] == attribute.data_type.sql(dialect="postgres")
    assert attribute.attribute.canonical_meaning in columns["email"]["description"]
    assert all(c["description"] for c in customer["columns"])
    assert customer["constraints"] == [{"type": "primary_key", "columns": ["customer_id"]}]
    assert customer["config"]["materialized"] == "incremental"
    assert customer["config"]["unique_key"] == ["customer_id"]
    assert customer["config"]["incremental_strategy"] == INCREMENTAL_STRATEGY
    project_file = yaml.safe_load((project / "dbt_project.yml").read_text())
    assert project_file["models"]["acme_360"]["+contract"]["enforced"].startswith("{{ var(")
    # And the accepted values use the current argument syntax
    event = next(m for m in schema["models"] if m["name"] == "if_email_event")
    event_type = next(c for c in event["columns"] if c["name"] == "event_type")
    accepted = next(
        t["accepted_values"] for t in event_type["data_tests"] if "accepted_values" in t
    )
    assert set(accepted) == {"arguments", "config"}
    # And the profile example reads credentials from the environment, for both engines
    profile = yaml.safe_load((project / "profiles.yml.example").read_text())["acme_360"]
    assert set(profile["outputs"]) == {"duckdb", "postgres"}
    assert "env_var('DBT_PG_PASSWORD'" in profile["outputs"]["postgres"]["password"]
    sources = yaml.safe_load((project / "models" / "sources.yml").read_text())
    assert all(t["description"] for s in sources["sources"] for t in s["tables"])


# --- a broken mapping: dbt's tests and ours fail alike --------------------------------------------

BROKEN = {
    # a duplicate key: an address keyed by its customer (customers have several)
    ("customer_address", "address_id"): "CAST(ad.customer_id AS VARCHAR)",
    # a value outside the allowed list
    ("campaign", "channel"): "LOWER(m.channel_code)",
    # a pattern miss: the phone as the Mart writes it, not E.164
    ("customer", "phone"): "c.phone",
}


def _break(engagement, user) -> None:
    for (entity_name, attribute_name), rule in BROKEN.items():
        entity = EntityMapping.objects.get(engagement=engagement, entity_name=entity_name)
        services.attribute_mapping_update(
            attribute_mapping=entity.attributes.get(attribute_name=attribute_name),
            data={"transformation": rule, "default_value": ""},
            acting_user=user,
        )
    # an orphan: events of closed customers (the filter on open customers taken away)
    entity = EntityMapping.objects.get(engagement=engagement, entity_name="email_event")
    services.entity_mapping_update(
        entity_mapping=entity,
        data={"filter": "e.customer_id IS NOT NULL AND e.campaign_id IS NOT NULL"},
        acting_user=user,
    )


def _dbt_failures(project: Path) -> set[tuple[str, str, str]]:
    """(entity, attribute, test type) of every failing dbt test, read from dbt's own results and
    the meta each generated test carries."""
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    failed = set()
    for result in results:
        node = manifest["nodes"].get(result["unique_id"], {})
        if node.get("resource_type") == "test" and result["status"] in ("fail", "error"):
            meta = node["config"]["meta"]
            failed.add((meta["entity"], meta["attribute"], meta["test_type"]))
    return failed


def test_dbt_test_fails_the_checks_our_unit_tests_fail_on_a_broken_mapping(
    duckdb_warehouse, mapped, ba, etl, tmp_path, demo_mart_file
):
    # Given a mapping broken four ways, and its dbt project on DuckDB beside the Mart
    _break(mapped, ba)
    out = tmp_path / "etl"
    etl_generate(engagement=mapped, dialect="duckdb", out=out, acting_user=etl)
    project = out / "dbt"
    duckdb_warehouse.load_mart(demo_mart_file)
    # When the models load without their constraints (which would refuse the load) and dbt tests
    loaded = dbt(project, duckdb_warehouse, "run", variables={"enforce_contract": False})
    assert loaded.returncode == 0, loaded.stdout[-4000:]
    tested = dbt(project, duckdb_warehouse, "test")
    assert tested.returncode == 1, tested.stdout[-4000:]
    dbt_failed = _dbt_failures(project)

    # And our unit tests run on the same loaded tables
    plan = build_plan(engagement=mapped)
    target = sa.create_engine(duckdb_warehouse.url)
    options = testrun.RunOptions(
        source_url=duckdb_warehouse.url,
        target_url=duckdb_warehouse.url,
        source_schema=MART,
        target_schema=INTERFACE["duckdb"],
    )
    try:
        results = testrun.run_checks(plan, target, target, "duckdb", "duckdb", options)
    finally:
        target.dispose()
    # (field values and the fits-before-the-cast checks read the Mart, not a model: dbt tests
    # read models, so those stay ours alone)
    ours = {
        (r.check.entity, r.check.attribute, str(r.check.test_type))
        for r in results
        if not r.passed and not r.check.on_source and r.check.test_type != "field_value"
    }

    # Then both report the same failing checks: the four breaks (and the record count of the
    # entity whose filter changed is right: it is counted after the same filter)
    assert dbt_failed == ours
    assert {
        ("customer_address", "address_id", "primary_key"),
        ("campaign", "channel", "allowed_values"),
        ("customer", "phone", "type_conformance"),
        ("email_event", "customer_id", "foreign_key"),
    } <= ours
