"""A quality rule's tolerance reaches the unit tests: when the contract lets 5 % of the rows fall
outside the allowed values (`invalidValues` with `mustBeLessOrEqualTo: 5, unit: percent`), a test
run passes with a few such rows and fails with more — a tolerance is not a hard enum."""

from __future__ import annotations

import sqlite3

import pytest
import yaml

from contracts import services as contract_services
from contracts.demo import DEMO_CONTRACT
from exports.etl.plan import build_plan
from exports.services.testrun import etl_run_execute
from exports.testrun import checks
from exports.testrun.choices import TestType
from exports.testrun.engine import RunOptions
from mappings.models import AttributeMapping
from mappings.services import mapping as services

pytestmark = pytest.mark.django_db

ACTIVE = "UPPER(s.opt_in_flag) IN ('Y', '1', 'YES')"


@pytest.fixture
def published(engagement, ba):
    """The demo contract, whose subscription status accepts up to 5 % of other values."""
    document = yaml.safe_load(DEMO_CONTRACT.read_text())
    subscription = next(s for s in document["schema"] if s["name"] == "subscription")
    status = next(p for p in subscription["properties"] if p["name"] == "status")
    rule = status["quality"][0]
    del rule["mustBe"]
    rule.update({"mustBeLessOrEqualTo": 5, "unit": "percent"})
    layer = contract_services.contract_import(
        engagement=engagement,
        file_name="tolerant.odcs.yaml",
        content=yaml.safe_dump(document, sort_keys=False).encode(),
        acting_user=ba,
    )
    return contract_services.contract_publish(layer=layer, acting_user=ba)


def status_rule(engagement, ba, one_in: int) -> None:
    """One subscription in `one_in` (by id) gets a status the contract does not list."""
    mapping = AttributeMapping.objects.get(
        engagement=engagement, entity_mapping__entity_name="subscription", attribute_name="status"
    )
    services.attribute_mapping_update(
        attribute_mapping=mapping,
        data={
            "transformation": f"CASE WHEN s.subscription_id % {one_in} = 7 THEN 'on_hold' "
            f"WHEN {ACTIVE} THEN 'active' ELSE 'cancelled' END",
            "default_value": "",
        },
        acting_user=ba,
    )


def status_result(engagement, etl, tmp_path, demo_mart_file, name: str):
    run = etl_run_execute(
        engagement=engagement,
        options=RunOptions(
            source_url=f"sqlite:///{demo_mart_file}",
            target_url=f"sqlite:///{tmp_path / name}",
        ),
        acting_user=etl,
    )
    result = run.results.get(name="subscription.status: allowed values")
    return result, run.entity_rows["subscription"]


def outside(demo_mart_file, one_in: int) -> int:
    """The subscriptions the rule puts outside, counted in the Mart."""
    with sqlite3.connect(demo_mart_file) as db:
        query = "SELECT COUNT(*) FROM crm_subscription WHERE subscription_id % ? = 7"
        return db.execute(query, (one_in,)).fetchone()[0]


def test_the_check_says_its_tolerance_for_generated_tests_too(mapped):
    # Given the plan of the mapped engagement
    plan = build_plan(engagement=mapped)
    status = plan.entity("subscription").column("status")
    channel = plan.entity("campaign").column("channel")

    # Then the tolerance of each column's allowed-values test is the contract's
    tolerance = checks.tolerance(status, TestType.ALLOWED_VALUES)
    assert (tolerance.operator, tolerance.low, tolerance.percent) == (
        "mustBeLessOrEqualTo",
        5,
        True,
    )
    assert tolerance.describe() == "at most 5% of the rows"
    assert not tolerance.is_strict
    assert checks.tolerance(channel, TestType.ALLOWED_VALUES).is_strict
    assert checks.tolerance(status, TestType.NOT_NULL).is_strict


def test_a_few_rows_outside_the_allowed_values_pass_within_the_tolerance(
    mapped, ba, etl, tmp_path, demo_mart_file
):
    # Given a rule that puts about 1 % of the subscriptions outside the allowed values
    status_rule(mapped, ba, one_in=100)

    # When a test run loads and checks the interface tables
    result, total = status_result(mapped, etl, tmp_path, demo_mart_file, "few.sqlite3")
    bad = outside(demo_mart_file, 100)

    # Then the allowed-values test passes, saying how many rows were outside and of how many
    assert result.passed, result.actual
    assert result.expected == "at most 5% of the rows"
    assert result.actual == f"{bad} of {total} rows ({100 * bad / total:.2f}%)"
    assert 0 < bad / total < 0.05
    assert {row["status"] for row in result.sample_rows} == {"on_hold"}
    assert "the contract accepts at most 5% of the rows outside" in result.description


def test_more_rows_outside_the_allowed_values_than_the_tolerance_fail(
    mapped, ba, etl, tmp_path, demo_mart_file
):
    # Given a rule that puts about 10 % of the subscriptions outside the allowed values
    status_rule(mapped, ba, one_in=10)

    # When a test run loads and checks the interface tables
    result, total = status_result(mapped, etl, tmp_path, demo_mart_file, "many.sqlite3")
    bad = outside(demo_mart_file, 10)

    # Then the allowed-values test fails
    assert not result.passed
    assert result.actual == f"{bad} of {total} rows ({100 * bad / total:.2f}%)"
    assert bad / total > 0.05
