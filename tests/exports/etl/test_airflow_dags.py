"""Story: the Airflow DAGs generated for the demo engagement run in a real Airflow 3 against
PostgreSQL. The ETL developer generates the ETL of the approved spec, loads the DAG folder in a
DagBag and runs every DAG with dag.test() twice: the interface holds exactly what an independent
computation from the Mart says, the load-audit table has one row per entity per run stamped with
the spec version and hash, the second run changes nothing and the next day's run, after the Mart
changed, makes the interface equal a fresh computation again. A rule changed to produce a value
outside the contract's allowed list loads, but its quality gate fails the run.

Airflow lives in its own virtualenv, .venv-airflow (`make airflow`, which `make test` runs); the
DAG runs happen there in a subprocess (tests/exports/etl/airflow_run.py), with AIRFLOW_HOME and
its SQLite metadata database in a temporary folder."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from django.conf import settings

from exports.services.etl import etl_generate
from mappings.models import EntityMapping
from mappings.services import mapping as mapping_services
from signoff import services as signoff_services
from signoff.choices import Gate
from tests.conftest import missing_service
from workbench import services as workbench_services
from workbench.choices import SignoffGate

from .expected import PRIMARY_KEYS, comparable, expected_rows
from .mart_changes import next_day_statements
from .pgmart import copy_mart

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.outside_engine]

AIRFLOW_BIN = Path(settings.BASE_DIR) / ".venv-airflow" / "bin"
RUNNER = Path(__file__).with_name("airflow_run.py")
SERVER = "postgres@127.0.0.1:5432"
CONN_ENV = "AIRFLOW_CONN_ACME_360_TARGET"
_HOURLY = "acme_360_cron_0_x_x_x_x_load"  # the demo's email events: "0 * * * *"  # the DAGs' connection id is acme_360_target
AUDIT = (
    "SELECT run_id, dag_id, entity, strategy, rows_inserted, rows_updated, rows_deleted, "
    "started_at, ended_at, spec_version, content_hash, approved FROM etl_load_audit"
)


@pytest.fixture
def airflow_bin() -> Path:
    if not (AIRFLOW_BIN / "airflow").exists():
        missing_service(".venv-airflow is missing: `make airflow` builds it")
    return AIRFLOW_BIN


@pytest.fixture
def target(require_postgres, demo_mart_file):
    """A scratch PostgreSQL database: the demo Mart in schema `mart`, the interface in `public`
    (the generated SQL names the Mart's tables unqualified: the search path finds them)."""
    name = f"test_airflow_dags_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(
        f"postgresql+psycopg://{SERVER}/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET search_path TO public, mart')
    engine = sa.create_engine(f"postgresql+psycopg://{SERVER}/{name}")
    try:
        copy_mart(demo_mart_file, engine, "mart")
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def airflow(airflow_bin, target, tmp_path):
    """Run the DAGs of a folder in .venv-airflow: run(folder, entities) runs the DAGs loading
    those entities and returns what happened (airflow_run.py)."""
    home = tmp_path / "airflow-home"
    home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        CONN_ENV: f"postgresql://{SERVER}/{target.url.database}",
    }
    _check(subprocess.run([str(airflow_bin / "airflow"), "db", "migrate"], **_quiet(env)))

    def run(folder: Path, entities: list[str]) -> dict:
        out = tmp_path / f"report-{uuid.uuid4().hex[:6]}.json"
        command = [str(airflow_bin / "python"), str(RUNNER), str(folder), str(out), *entities]
        # dag.test() finds its DAG's bundle through the DAGs folder setting
        done = subprocess.run(command, **_quiet({**env, "AIRFLOW__CORE__DAGS_FOLDER": str(folder)}))
        _check(done)
        report = json.loads(out.read_text())
        # What failed, for the assertion messages (the task logs go to the runner's output)
        lines = done.stdout.splitlines()
        report["errors"] = [
            "\n".join(lines[n : n + 12])
            for n, line in enumerate(lines)
            if "Error:" in line or "Exception:" in line
        ][-3:]
        return report

    return run


def _quiet(env: dict) -> dict:
    return {"env": env, "capture_output": True, "text": True, "timeout": 900}


def _check(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture
def approved(mapped, lead, ba, sme):
    """The completed demo mapping submitted and approved by the SME: spec version 1."""
    workbench_services.signoff_owner_set(
        engagement=mapped, gate=SignoffGate.MAPPING, username=sme.username, acting_user=lead
    )
    review = signoff_services.do_submit_for_review(
        engagement=mapped, gate=Gate.MAPPING, acting_user=ba
    )
    signoff_services.do_decide(review=review, verdict="approve", acting_user=sme)
    return mapped


def _dag_ids(manifest: dict) -> set[str]:
    """One DAG per schedule the entities are agreed on (the demo: daily, and hourly events)."""
    dags = {"@daily": "acme_360_daily_load", "0 * * * *": _HOURLY}
    return {dags[e["schedule"]] for e in manifest["entities"]}


def _assert_tasks_in_load_order(report: dict, manifest: dict) -> None:
    """Tables first; each load after its parents of the same DAG; purges after every load,
    children before parents; the quality gate last."""
    daily, hourly = report["dags"]["acme_360_daily_load"], report["dags"][_HOURLY]
    assert daily["tasks"]["create_tables"] == []
    assert daily["tasks"]["load_customer"] == ["create_tables"]
    assert daily["tasks"]["load_campaign"] == ["create_tables"]
    assert daily["tasks"]["load_customer_address"] == ["load_customer"]
    assert daily["tasks"]["load_subscription"] == ["load_customer"]
    # email_event is agreed hourly: its DAG has its own create task and loads, first, the daily
    # parents its events refer to (merged, never purged there), so no event arrives before them
    assert hourly["tasks"]["load_customer"] == ["create_tables"]
    assert hourly["tasks"]["load_campaign"] == ["create_tables"]
    assert hourly["tasks"]["load_email_event"] == ["load_campaign", "load_customer"]
    for dag, schedule in ((daily, "@daily"), (hourly, "0 * * * *")):
        loads = sorted(t for t in dag["tasks"] if t.startswith("load_"))
        entities = [e for e in reversed(manifest["entities"]) if f"load_{e['name']}" in loads]
        purges = [
            f"purge_{e['name']}" for e in entities if e["purge"] and e["schedule"] == schedule
        ]
        assert sorted(t for t in dag["tasks"] if t.startswith("purge_")) == sorted(purges)
        upstream = loads
        for purge in purges:
            assert dag["tasks"][purge] == upstream
            upstream = [purge]
        assert dag["tasks"]["quality_gate"] == upstream


def _differences(before: dict, after: dict) -> dict[str, tuple[int, int, int]]:
    """entity → (inserted, updated, deleted) keys between two computations of the interface."""
    out = {}
    for entity, rows in after.items():
        old = before[entity]
        inserted = len(rows.keys() - old.keys())
        updated = sum(1 for key in rows.keys() & old.keys() if rows[key] != old[key])
        out[entity] = (inserted, updated, len(old.keys() - rows.keys()))
    return out


def _interface(target: sa.Engine, manifest: dict) -> dict[str, dict]:
    with target.connect() as conn:
        return {
            e["name"]: {
                row[PRIMARY_KEYS[e["name"]]]: comparable(row)
                for row in (
                    dict(r._mapping)
                    for r in conn.exec_driver_sql(f'SELECT * FROM public."{e["table"]}"')
                )
            }
            for e in manifest["entities"]
        }


def _audit(target: sa.Engine) -> list[dict]:
    with target.connect() as conn:
        return [dict(r._mapping) for r in conn.exec_driver_sql(AUDIT)]


def _assert_ran_green(report: dict, dag_ids: set[str]) -> None:
    assert report["import_errors"] == {}
    assert set(report["dags"]) == dag_ids
    for dag_id, dag in report["dags"].items():
        failed = {t: state for t, state in dag["task_states"].items() if state != "success"}
        assert dag["state"] == "success", f"{dag_id}: {failed}\n" + "\n".join(report["errors"])
        assert set(dag["task_states"].values()) == {"success"}, dag_id


# The daily entities the hourly e-mail events refer to: the hourly DAG merges them first.
HOURLY_PARENTS = ("customer", "campaign")


def _assert_audited(report, target, manifest, expected_counts) -> None:
    """One audit row per entity each DAG loads in this run, stamped; an entity's counts, summed
    over the DAGs that load it (the hourly DAG merges the daily parents of its events first, the
    daily DAG then finds nothing more to do), are the counts expected."""
    runs = {dag["run_id"]: dag_id for dag_id, dag in report["dags"].items()}
    rows = [r for r in _audit(target) if r["run_id"] in runs]
    assert sorted(r["entity"] for r in rows) == sorted(
        [e["name"] for e in manifest["entities"]] + list(HOURLY_PARENTS)
    )
    strategies = {e["name"]: e["strategy"] for e in manifest["entities"]}
    totals: dict[str, tuple[int, int, int]] = {}
    for row in rows:
        assert row["dag_id"] == runs[row["run_id"]]
        assert row["strategy"] == strategies[row["entity"]]
        assert row["spec_version"] == manifest["spec_version"]
        assert row["content_hash"] == manifest["content_hash"]
        assert row["approved"] is manifest["approved"]
        assert row["started_at"] <= row["ended_at"]
        counts = (row["rows_inserted"], row["rows_updated"], row["rows_deleted"])
        before = totals.get(row["entity"], (0, 0, 0))
        totals[row["entity"]] = tuple(a + b for a, b in zip(before, counts, strict=True))
    assert totals == {e: expected_counts[e] for e in totals}


def test_the_generated_dags_load_the_demo_twice_and_the_gate_stops_a_broken_mapping(
    approved, ba, etl, tmp_path, demo_mart_file, target, airflow
):
    # Given the ETL generated for PostgreSQL from the approved spec version 1
    manifest = etl_generate(
        engagement=approved, dialect="postgres", out=tmp_path / "etl", acting_user=etl
    )
    assert (manifest["spec_version"], manifest["approved"]) == (1, True)
    dag_ids = _dag_ids(manifest)
    expected = expected_rows(demo_mart_file, unicode_case=False)

    # When Airflow loads the DAG folder and runs each DAG
    first = airflow(tmp_path / "etl" / "airflow", manifest["load_order"])

    # Then every DAG imports and runs green, tagged with its schedule and the spec version
    _assert_ran_green(first, dag_ids)
    _assert_tasks_in_load_order(first, manifest)
    for dag in first["dags"].values():
        assert "spec-v1" in dag["tags"] and "draft" not in dag["tags"]
        assert manifest["content_hash"] in dag["doc_md"]
        assert dag["retries"]["quality_gate"] == 0
        assert all(n > 0 for task, n in dag["retries"].items() if task.startswith("load_"))
    # And the interface holds exactly the rows computed independently from the Mart
    assert _interface(target, manifest) == expected
    # And each entity has its audit row: everything inserted, nothing updated or deleted
    _assert_audited(
        first, target, manifest, {name: (len(rows), 0, 0) for name, rows in expected.items()}
    )

    # When the same day's load runs again
    second = airflow(tmp_path / "etl" / "airflow", manifest["load_order"])

    # Then it succeeds, the interface is unchanged and the audit says nothing changed
    _assert_ran_green(second, dag_ids)
    assert _interface(target, manifest) == expected
    _assert_audited(second, target, manifest, dict.fromkeys(expected, (0, 0, 0)))
    assert len(_audit(target)) == 2 * (len(manifest["entities"]) + len(HOURLY_PARENTS))

    # When the next day's Mart has a changed e-mail, a new campaign with an event and a customer
    # gone (one with an address but no e-mail events) — the same changes in a copy of the Mart
    # file the independent computation reads
    next_day = tmp_path / "mart-next-day.sqlite3"
    shutil.copy(demo_mart_file, next_day)
    for statement in next_day_statements(next_day):
        with sqlite3.connect(next_day) as db:
            db.execute(statement)
        with target.begin() as conn:
            conn.exec_driver_sql(statement)
    third = airflow(tmp_path / "etl" / "airflow", manifest["load_order"])

    # Then the interface equals a fresh computation from the changed Mart, and the audit counts
    # exactly the rows that were inserted, changed and removed
    _assert_ran_green(third, dag_ids)
    changed = expected_rows(next_day, unicode_case=False)
    assert _interface(target, manifest) == changed
    _assert_audited(third, target, manifest, _differences(expected, changed))

    # When a rule is changed to a value outside the allowed list and the ETL generated again
    customer = EntityMapping.objects.get(engagement=approved, entity_name="customer")
    mapping_services.attribute_mapping_update(
        attribute_mapping=customer.attributes.get(attribute_name="lifecycle_stage"),
        data={"transformation": "'dormant'", "default_value": ""},
        acting_user=ba,
    )
    broken = etl_generate(
        engagement=approved, dialect="postgres", out=tmp_path / "broken", acting_user=etl
    )
    fourth = airflow(tmp_path / "broken" / "airflow", ["customer"])

    # Then the DAG is a draft, its loads run but its quality gate fails the run
    run = fourth["dags"]["acme_360_daily_load"]
    assert "draft" in run["tags"] and "spec-v1" not in run["tags"]
    assert run["state"] == "failed"
    assert run["task_states"]["quality_gate"] == "failed"
    assert run["task_states"]["load_customer"] == "success"
    runs = {dag["run_id"] for dag in fourth["dags"].values()}
    audit = [r for r in _audit(target) if r["run_id"] in runs]
    updated = sum(r["rows_updated"] for r in audit if r["entity"] == "customer")
    assert updated == len(changed["customer"])
    assert {r["content_hash"] for r in audit} == {broken["content_hash"]}
    assert {(r["spec_version"], r["approved"]) for r in audit} == {(None, False)}
