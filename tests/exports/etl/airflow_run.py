"""Run inside .venv-airflow by tests/exports/etl/test_airflow_dags.py (it imports only Airflow):
load the DAG folder in a real DagBag, run each DAG once with dag.test() and print what happened
as JSON in OUT_FILE (Airflow's logging echoes stdout). The caller sets AIRFLOW_HOME, the metadata database and the target connection
(AIRFLOW_CONN_<ID>) in the environment.

    python airflow_run.py DAG_FOLDER OUT_FILE DAG_ID...   (the DAGs to run, in this order)
"""

from __future__ import annotations

import json
import sys

from airflow.dag_processing.dagbag import DagBag


def main(folder: str, to_run: list[str]) -> dict:
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
    for dag_id in to_run:  # the parents' DAG first: the foreign keys cross DAGs
        run = bag.get_dag(dag_id).test()
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
