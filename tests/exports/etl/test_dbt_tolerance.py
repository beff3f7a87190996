"""A contract's tolerance reaches the dbt tests too: with subscription status allowed 5 % of the
rows outside its values, dbt passes a load with about 1 % such rows and fails one with about 10 %,
as the test run does (test_tolerance.py)."""

from __future__ import annotations

import yaml

from exports.services.etl import etl_generate

from .test_dbt import _dbt_failures, dbt, duckdb_warehouse  # noqa: F401 — the fixture
from .test_tolerance import published, status_rule  # noqa: F401 — the tolerant contract


def test_dbt_accepts_allowed_values_within_the_contracts_tolerance(
    duckdb_warehouse,  # noqa: F811
    mapped,
    ba,
    etl,
    tmp_path,
    demo_mart_file,
):
    duckdb_warehouse.load_mart(demo_mart_file)
    for one_in, failing in (
        (100, set()),
        (10, {("subscription", "status", "allowed_values")}),
    ):
        # Given a rule that puts one subscription in `one_in` outside the allowed values
        status_rule(mapped, ba, one_in=one_in)
        out = tmp_path / f"one_in_{one_in}"
        etl_generate(engagement=mapped, dialect="duckdb", out=out, acting_user=etl)
        project = out / "dbt"
        schema = yaml.safe_load((project / "models" / "schema.yml").read_text())
        model = next(m for m in schema["models"] if m["name"] == "if_subscription")
        status = next(c for c in model["columns"] if c["name"] == "status")
        assert any("accepted_values_within" in t for t in status["data_tests"])

        # When dbt loads the models and tests them
        loaded = dbt(project, duckdb_warehouse, "run")
        assert loaded.returncode == 0, loaded.stdout[-4000:]
        tested = dbt(project, duckdb_warehouse, "test", "--select", "if_subscription")

        # Then the status test passes within the tolerance and fails beyond it
        assert tested.returncode == (1 if failing else 0), tested.stdout[-4000:]
        assert _dbt_failures(project) == failing
