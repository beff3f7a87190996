"""Stories of the generated dbt project (parsed and built green on DuckDB with dbt-duckdb). The
Airflow DAGs run in a real Airflow: test_airflow_dags.py."""

from __future__ import annotations

import os
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
