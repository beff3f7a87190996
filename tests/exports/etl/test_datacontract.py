"""The independent check: `datacontract test` (datacontract-cli) with the contract, exported by
the contracts app, against the DuckDB target a test run loaded."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from contracts.exporters import layer_to_odcs
from contracts.selectors import published_layer
from exports.services.testrun import etl_run_execute
from exports.testrun.choices import RunStatus
from exports.testrun.engine import RunOptions

DATACONTRACT = Path(sys.executable).with_name("datacontract")


def test_datacontract_test_passes_against_the_loaded_duckdb_target(
    mapped, etl, tmp_path, demo_mart_file
):
    # Given a test run that loaded the interface tables into DuckDB
    target = tmp_path / "interface.duckdb"
    run = etl_run_execute(
        engagement=mapped,
        options=RunOptions(
            source_url=f"sqlite:///{demo_mart_file}", target_url=f"duckdb:///{target}"
        ),
        acting_user=etl,
    )
    assert run.status == RunStatus.PASSED, run.message
    # And the contract as the contracts app exports it, with a server block for that file
    document = layer_to_odcs(published_layer(engagement=mapped))
    document["servers"] = [
        {"server": "test_run", "type": "duckdb", "database": str(target), "schema": "main"}
    ]
    contract = tmp_path / "contract.odcs.yaml"
    contract.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    # When datacontract-cli tests the contract against the data
    done = subprocess.run(
        [str(DATACONTRACT), "test", str(contract), "--server", "test_run"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    # Then it passes
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "passed" in done.stdout.lower()


def test_datacontract_test_runs_on_the_export_as_written_with_server_and_lineage(
    mapped, etl, tmp_path, demo_mart_file
):
    # Given a test run that loaded the interface tables into DuckDB
    target = tmp_path / "interface.duckdb"
    run = etl_run_execute(
        engagement=mapped,
        options=RunOptions(
            source_url=f"sqlite:///{demo_mart_file}", target_url=f"duckdb:///{target}"
        ),
        acting_user=etl,
    )
    # (its own unit tests are another story: here only the loaded tables matter)
    assert run.message.startswith("loaded ") and " rows into 5 entities" in run.message
    # And the contract exported with its lineage and a server for that database, untouched
    contract = tmp_path / "contract.odcs.yaml"
    call_command(
        "export_contract", "--engagement", "acme-360", "--as", "etl", "-o", str(contract),
        "--with-mapping", "--server", f"duckdb:///{target}",
        stdout=io.StringIO(),
    )  # fmt: skip
    document = yaml.safe_load(contract.read_text())
    assert document["servers"][-1] == {
        "server": "interface",
        "type": "duckdb",
        "database": str(target),
        "schema": "main",
    }
    # When datacontract-cli tests the exported file against the data
    done = subprocess.run(
        [str(DATACONTRACT), "test", str(contract), "--server", "interface"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    # Then it passes
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "passed" in done.stdout.lower()


def test_a_postgresql_server_is_written_without_credentials(mapped, etl, tmp_path):
    contract = tmp_path / "contract.odcs.yaml"
    call_command(
        "export_contract", "--engagement", "acme-360", "--as", "etl", "-o", str(contract),
        "--server", "postgresql+psycopg://loader:s3cret@db.internal:6543/interface",
        "--server-schema", "if_360",
        stdout=io.StringIO(),
    )  # fmt: skip

    text = contract.read_text()
    assert yaml.safe_load(text)["servers"][-1] == {
        "server": "interface",
        "type": "postgres",
        "host": "db.internal",
        "port": 6543,
        "database": "interface",
        "schema": "if_360",
    }
    assert "s3cret" not in text and "loader" not in text


def test_a_server_the_standard_cannot_describe_is_refused(mapped, etl, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command(
            "export_contract", "--engagement", "acme-360", "--as", "etl",
            "-o", str(tmp_path / "c.yaml"), "--server", "sqlite:///x.sqlite3",
        )  # fmt: skip

    assert str(refused.value) == (
        "--server: a sqlite server cannot be described; use a duckdb or postgresql URL."
    )
    assert not (tmp_path / "c.yaml").exists()
