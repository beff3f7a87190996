"""Run inside .venv-airflow by tests/exports/etl/test_airflow_dags.py (it imports only Airflow):
load the DAG folder in a real DagBag, run each DAG once with dag.test() and print what happened
as JSON in OUT_FILE (Airflow's logging echoes stdout). The caller sets AIRFLOW_HOME, the metadata database and the target connection
(AIRFLOW_CONN_<ID>) in the environment.

    python airflow_run.py DAG_FOLDER OUT_FILE ENTITY...

runs the DAGs that load the given entities (named in load order), the DAG of the earliest first:
a child's foreign key may point at an entity of another schedule's DAG.
"""

from __future__ import annotations

import json
import sys

from airflow.dag_processing.dagbag import DagBag


def main(folder: str, entities: list[str]) -> dict:
    # Airflow 3.3's DagBag has no include_examples: the caller sets AIRFLOW__CORE__LOAD_EXAMPLES.
    bag = DagBag(dag_folder=folder)
    report: dict = {
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "dags": {},
    }
    for dag_id in sorted(bag.dag_ids):
        dag = bag.get_dag(dag_id)
        report["dags"][dag_id] = {
            "tags": sorted(dag.tags),
            "doc_md": dag.doc_md,
            "schedule": str(dag.schedule),
            "tasks": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
            "retries": {t.task_id: t.retries for t in dag.tasks},
        }
    rank = {f"load_{name}": n for n, name in enumerate(entities)}
    first = {
        dag_id: min((rank[t] for t in dag["tasks"] if t in rank), default=None)
        for dag_id, dag in report["dags"].items()
    }
    to_run = sorted((n, dag_id) for dag_id, n in first.items() if n is not None)
    if report["import_errors"]:
        to_run = []  # the caller reports them
    for _, dag_id in to_run:
        dag = bag.get_dag(dag_id)
        for t in dag.tasks:  # a failing task fails now, not after its retry delays (reported above)
            t.retries = 0
        run = dag.test()
        report["dags"][dag_id]["run_id"] = run.run_id
        report["dags"][dag_id]["state"] = str(run.state)
        report["dags"][dag_id]["task_states"] = {
            ti.task_id: str(ti.state) for ti in run.get_task_instances()
        }
    return report


if __name__ == "__main__":
    report = main(sys.argv[1], sys.argv[3:])
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(report, out)
