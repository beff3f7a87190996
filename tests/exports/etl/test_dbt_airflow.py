"""Stories of the generated Airflow DAG (compiles; its tasks and dependencies follow the load
order). The dbt project's stories are in test_dbt.py."""

from __future__ import annotations

import ast
import py_compile
from pathlib import Path

from exports.services.etl import etl_generate


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
