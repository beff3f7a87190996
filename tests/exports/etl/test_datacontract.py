"""The independent check: `datacontract test` (datacontract-cli) with the contract, exported by
the contracts app, against the DuckDB target a test run loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

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
