"""The body of every generated Airflow DAG file (exports.etl.airflow copies it below the DAG's
constants). It runs in the client's Airflow, not in the workbench: it imports only Airflow and
the standard library, and runs the generated SQL files exactly as shipped.

Each task reads its file, splits it at the `-- step: NAME` lines and executes the statements in
one transaction through the connection's own hook; the cursor's row count per step goes to the
load-audit table, the only SQL written here.
"""

from __future__ import annotations

import re
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pendulum
from airflow.sdk import DAG, BaseHook, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

# --- generated constants (replaced by exports.etl.airflow) ---
SPEC: dict = {
    "dag_id": "interface_load",
    "schedule": "@daily",  # None: run on demand only
    "conn_id": "interface_target",
    "tags": [],
    "doc_md": "",
    "create": "sql/00_create_interface.sql",
    "unit_tests": "tests/unit_tests.sql",
    "unit_test_names": [],
    "audit_ddl": "",
    "transaction_lines": ["BEGIN;", "COMMIT;"],
    "stamp": {"spec_version": None, "content_hash": "", "approved": False},
    "entities": [],
}
# --- end of generated constants ---

ROOT = Path(__file__).resolve().parent.parent  # the ETL folder: airflow/, sql/, tests/
STEP = re.compile(r"^-- step: (\w+)[ \t]*$", re.MULTILINE)
COUNTED = {
    "insert": "rows_inserted",
    "overwrite": "rows_inserted",
    "update": "rows_updated",
    "delete": "rows_deleted",
    "replace": "rows_deleted",
}
AUDIT_COLUMNS = [
    "run_id",
    "dag_id",
    "entity",
    "strategy",
    "rows_inserted",
    "rows_updated",
    "rows_deleted",
    "started_at",
    "ended_at",
    "spec_version",
    "content_hash",
    "approved",
]


def _sql_lines(lines: list[str]) -> str:
    """The statement text without whole-line comments ("" when only comments are left)."""
    return "\n".join(line for line in lines if not line.lstrip().startswith("--")).strip()


def steps(path: str) -> list[tuple[str, str]]:
    """(step, statement) of one generated file, in file order."""
    parts = STEP.split((ROOT / path).read_text(encoding="utf-8"))
    out = []
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        # The files wrap their statements in BEGIN; … COMMIT; for psql: the task owns the
        # transaction, so those lines are left out.
        control = SPEC["transaction_lines"]
        lines = [line for line in body.splitlines() if line.strip() not in control]
        statement = _sql_lines(lines)
        if statement:
            out.append((name, statement))
    return out


def _now() -> datetime:
    # timezone.utc, not datetime.UTC: the client's Airflow may run on Python 3.10
    return datetime.now(timezone.utc).replace(tzinfo=None)  # noqa: UP017


def _hook():
    return BaseHook.get_connection(SPEC["conn_id"]).get_hook()


def _run(cursor, path: str) -> dict[str, int]:
    """Execute one file's statements; the rows each counted step touched."""
    counts = dict.fromkeys(("rows_inserted", "rows_updated", "rows_deleted"), 0)
    for step, statement in steps(path):
        cursor.execute(statement)
        if step in COUNTED and cursor.rowcount and cursor.rowcount > 0:
            counts[COUNTED[step]] += cursor.rowcount
    return counts


def _in_transaction(work):
    """Run work(cursor, placeholder) in one transaction of the target connection."""
    hook = _hook()
    connection = hook.get_conn()
    try:
        with closing(connection.cursor()) as cursor:
            result = work(cursor, hook.placeholder)
        connection.commit()
        return result
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()


def create_tables() -> None:
    def work(cursor, _placeholder):
        _run(cursor, SPEC["create"])
        cursor.execute(SPEC["audit_ddl"])

    _in_transaction(work)


def load(entity: dict) -> dict[str, int]:
    """The entity's load file and its audit row, committed together."""
    context = get_current_context()
    run_id, dag_id = context["run_id"], context["dag"].dag_id
    started = _now()

    def work(cursor, placeholder):
        counts = _run(cursor, entity["load"])
        # A task cleared and run again in the same run replaces its row.
        cursor.execute(
            f"DELETE FROM etl_load_audit WHERE run_id = {placeholder} AND entity = {placeholder}",
            (run_id, entity["name"]),
        )
        values = [run_id, dag_id, entity["name"], entity["strategy"]]
        values += [counts["rows_inserted"], counts["rows_updated"], counts["rows_deleted"]]
        stamp = SPEC["stamp"]
        values += [started, _now(), stamp["spec_version"], stamp["content_hash"], stamp["approved"]]
        cursor.execute(
            f"INSERT INTO etl_load_audit ({', '.join(AUDIT_COLUMNS)}) "
            f"VALUES ({', '.join([placeholder] * len(AUDIT_COLUMNS))})",
            values,
        )
        return counts

    return _in_transaction(work)


def purge(entity: dict) -> dict[str, int]:
    """The entity's purge file; its deletions are added to this run's audit row."""
    run_id = get_current_context()["run_id"]

    def work(cursor, placeholder):
        counts = _run(cursor, entity["purge"])
        cursor.execute(
            f"UPDATE etl_load_audit SET rows_deleted = rows_deleted + {placeholder}, "
            f"ended_at = {placeholder} WHERE run_id = {placeholder} AND entity = {placeholder}",
            (counts["rows_deleted"], _now(), run_id, entity["name"]),
        )
        return counts

    return _in_transaction(work)


def unit_tests(names: list[str]) -> dict[str, list[str]]:
    """The blocks of tests/unit_tests.sql that belong to `names` (check name → its lines). A
    block starts at a line `-- <check name>: <description>` and ends at the next one."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    by_length = sorted(SPEC["unit_test_names"], key=len, reverse=True)
    for line in (ROOT / SPEC["unit_tests"]).read_text(encoding="utf-8").splitlines():
        if line.startswith("-- "):
            name = next((n for n in by_length if line[3:].startswith(n + ":")), None)
            if name is not None:
                current = blocks.setdefault(name, []) if name in names else None
                continue
        if current is not None:
            current.append(line)
    return blocks


def _scalar(cursor, statement: str):
    cursor.execute(statement)
    return cursor.fetchone()[0]


def _failure(cursor, name: str, lines: list[str]) -> str:
    """Why the check fails ("" when it passes): its query counts the rows breaking it (a record
    count, the rows missing or extra), 0 is a pass."""
    violations = _scalar(cursor, _sql_lines(lines))
    return f"{name}: {violations} rows break it" if violations else ""


def quality_gate() -> None:
    """Run the unit-test queries of this DAG's entities; fail the run when any check fails."""
    names = [name for entity in SPEC["entities"] for name in entity["checks"]]
    blocks = unit_tests(names)
    # (a parent loaded ahead for another schedule's DAG has no checks here: its own DAG runs them)
    missing = [
        e["name"]
        for e in SPEC["entities"]
        if e["checks"] and not any(n in blocks for n in e["checks"])
    ]
    if missing:
        raise AirflowFailException(f"{SPEC['unit_tests']} has no checks of {', '.join(missing)}")

    def work(cursor, _placeholder):
        return [f for name, lines in blocks.items() if (f := _failure(cursor, name, lines))]

    failures = _in_transaction(work)
    if failures:
        raise AirflowFailException(
            f"{len(failures)} of {len(blocks)} checks failed:\n" + "\n".join(failures)
        )


def _task_name(prefix: str, entity: dict) -> str:
    return prefix + re.sub(r"\W", "_", entity["name"])


with DAG(
    dag_id=SPEC["dag_id"],
    schedule=SPEC["schedule"],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # two runs of one load would race on the same tables
    tags=SPEC["tags"],
    doc_md=SPEC["doc_md"],
) as dag:
    create = task(task_id="create_tables", retries=2)(create_tables)()
    loads = {}
    for entity in SPEC["entities"]:
        loads[entity["name"]] = task(
            task_id=_task_name("load_", entity), retries=2, retry_delay=timedelta(minutes=2)
        )(load)(entity)
    for entity in SPEC["entities"]:
        parents = [loads[p] for p in entity["parents"] if p in loads and p != entity["name"]]
        loads[entity["name"]].set_upstream(parents or [create])
    # Purges run after every load, children before parents (the reverse of the load order).
    previous = list(loads.values())
    for entity in reversed(SPEC["entities"]):
        if entity["purge"]:
            purged = task(
                task_id=_task_name("purge_", entity), retries=2, retry_delay=timedelta(minutes=2)
            )(purge)(entity)
            purged.set_upstream(previous)
            previous = [purged]
    gate = task(task_id="quality_gate", retries=0)(quality_gate)()
    gate.set_upstream(previous)
