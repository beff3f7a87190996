"""Stories of the generated dbt project (parsed and built green on DuckDB with dbt-duckdb) and of
the Airflow DAG (compiles; its tasks and dependencies follow the load order)."""

from __future__ import annotations

import ast
import os
import py_compile
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from exports.services.etl import etl_generate

from .expected import expected_rows

DBT = Path(sys.executable).parent / "dbt"


def copy_mart_to_duckdb(mart_path, duckdb_path) -> None:
    import duckdb

    source = sqlite3.connect(mart_path)
    target = duckdb.connect(str(duckdb_path))
    for (table,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = list(source.execute(f'PRAGMA table_info("{table}")'))
        types = {
            c[1]: "BIGINT"
            if c[2].upper().startswith("INT")
            else c[2]
            if c[2].upper().startswith("NUMERIC")
            else "VARCHAR"
            for c in columns
        }
        target.execute(
            f'CREATE TABLE "{table}" ({", ".join(f"{chr(34)}{n}{chr(34)} {t}" for n, t in types.items())})'
        )
        rows = source.execute(f'SELECT * FROM "{table}"').fetchall()
        if rows:
            target.executemany(
                f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(columns))})', rows
            )
    target.close()
    source.close()


@pytest.mark.skipif(not DBT.exists(), reason="dbt-core is not installed (pip install -e .[dev])")
def test_the_dbt_project_parses_and_builds_green_on_duckdb(mapped, etl, tmp_path, demo_mart_file):
    # Given the generated dbt project and the demo Mart in a DuckDB file
    etl_generate(engagement=mapped, dialect="duckdb", out=tmp_path / "etl", acting_user=etl)
    project = tmp_path / "etl" / "dbt"
    database = tmp_path / "warehouse.duckdb"
    copy_mart_to_duckdb(demo_mart_file, database)
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(
        "acme_360:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: '{database}'\n      threads: 1\n"
    )
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DO_NOT_TRACK": "1",
    }
    # When dbt parses and builds it
    for command in (["parse"], ["build"]):
        done = subprocess.run(
            [str(DBT), *command, "--project-dir", str(project)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        # Then both succeed
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Completed successfully" in done.stdout
    assert "ERROR=0" in done.stdout and "PASS=" in done.stdout
    # And the models hold the rows the independent computation expects
    import duckdb

    expected = expected_rows(demo_mart_file, unicode_case=True)
    with duckdb.connect(str(database), read_only=True) as db:
        for entity, table in [("customer", "if_customer"), ("email_event", "if_email_event")]:
            count = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            assert count == len(expected[entity])


def _dag_file(tmp_path) -> Path:
    return next((tmp_path / "airflow").glob("*_dag.py"))


def test_the_airflow_dag_compiles_and_follows_the_load_order(mapped, etl, tmp_path):
    manifest = etl_generate(engagement=mapped, dialect="postgres", out=tmp_path, acting_user=etl)
    dag = _dag_file(tmp_path)
    py_compile.compile(str(dag), doraise=True)
    tree = ast.parse(dag.read_text())
    tasks, sql_of, edges = [], {}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value
            if getattr(call.func, "id", "") == "SQLExecuteQueryOperator":
                keywords = {
                    k.arg: k.value.value for k in call.keywords if isinstance(k.value, ast.Constant)
                }
                tasks.append(keywords["task_id"])
                sql_of[keywords["task_id"]] = keywords["sql"]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            edges.add((node.left.id, node.right.id))
    order = manifest["load_order"]
    assert tasks == [f"load_{name}" for name in order]
    for n, name in enumerate(order, start=1):
        assert sql_of[f"load_{name}"] == f"sql/{n:02d}_{name}.sql"
        assert (tmp_path / sql_of[f"load_{name}"]).exists()
    assert edges == {
        ("load_customer", "load_customer_address"),
        ("load_customer", "load_subscription"),
        ("load_customer", "load_email_event"),
        ("load_campaign", "load_email_event"),
    }
    position = {name: i for i, name in enumerate(tasks)}
    assert all(position[parent] < position[child] for parent, child in edges)
    assert "schedule='@daily'" in dag.read_text()
