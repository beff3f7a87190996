"""The ETL Developer's feasibility verdicts and the SME's review from the command line: one
attribute, a whole entity's attributes at once (all or nothing), refusals naming who may."""

from __future__ import annotations

import pytest

from mappings.choices import Feasibility, SmeReview
from mappings.models import AttributeMapping, EntityMapping
from tests.clirun import run_cli

pytestmark = pytest.mark.django_db

SLUG = ("--engagement", "acme-360")


@pytest.fixture
def cli(capsys, monkeypatch):
    return lambda *argv: run_cli(capsys, monkeypatch, *argv)


def test_the_etl_developer_marks_every_attribute_of_an_entity_feasible(cli, prepared, etl_dev):
    ran = cli(
        "set_feasibility", *SLUG, "--as", "etl-dev", "customer.*", "feasible", "--format", "json"
    )

    assert ran.code == 0, ran.err
    attributes = AttributeMapping.objects.filter(entity_mapping__entity_name="customer")
    assert len(ran.json()["set"]) == attributes.count() > 0
    assert set(attributes.values_list("feasibility", flat=True)) == {Feasibility.FEASIBLE}
    last = attributes.first().history.first()
    assert last.history_user.username == "etl-dev"


def test_a_concern_on_one_entity_needs_its_reason(cli, prepared, etl_dev):
    without = cli("set_feasibility", *SLUG, "--as", "etl-dev", "customer", "Feasible with concerns")
    with_reason = cli(
        "set_feasibility",
        *SLUG,
        "--as",
        "etl-dev",
        "customer",
        "concerns",
        "--comment",
        "Two keys.",
    )

    assert without.code == 1 and "needs a comment" in without.err
    assert with_reason.code == 0, with_reason.err
    entity = EntityMapping.objects.get(entity_name="customer")
    assert (entity.feasibility, entity.feasibility_comment) == (Feasibility.CONCERNS, "Two keys.")


def test_a_tech_ba_may_not_give_a_feasibility_verdict_and_nothing_changes(cli, prepared, ba):
    ran = cli("set_feasibility", *SLUG, "--as", "ba", "customer.*", "feasible")

    assert ran.code == 1
    assert "only an ETL Developer may" in ran.err
    assert not AttributeMapping.objects.exclude(feasibility=Feasibility.NOT_ASSESSED).exists()


def test_unknown_targets_and_verdicts_are_named(cli, prepared, etl_dev):
    entity = cli("set_feasibility", *SLUG, "--as", "etl-dev", "shopper.*", "feasible")
    attribute = cli("set_feasibility", *SLUG, "--as", "etl-dev", "customer.shoe_size", "feasible")
    verdict = cli("set_feasibility", *SLUG, "--as", "etl-dev", "customer", "maybe")

    assert "has no mapping of entity 'shopper'; its entities: " in entity.err
    assert "Entity 'customer' has no attribute 'shoe_size'." in attribute.err
    assert "Unknown verdict 'maybe'; choose one of: " in verdict.err
    assert (entity.code, attribute.code, verdict.code) == (1, 1, 1)


def test_the_sme_agrees_with_one_rule_and_queries_another(cli, prepared, sme):
    agreed = cli("review_mapping", *SLUG, "--as", "sme", "customer.email", "agreed")
    query = cli(
        "review_mapping", *SLUG, "--as", "sme", "customer.phone", "query raised",
        "--comment", "Which of the five formats wins?",
    )  # fmt: skip

    assert (agreed.code, query.code) == (0, 0), agreed.err + query.err
    states = dict(
        AttributeMapping.objects.filter(entity_mapping__entity_name="customer").values_list(
            "attribute_name", "sme_review"
        )
    )
    assert (states["email"], states["phone"]) == (SmeReview.AGREED, SmeReview.QUERY_RAISED)


def test_a_review_names_attributes_and_only_the_sme_gives_it(cli, prepared, sme, viewer):
    whole_entity = cli("review_mapping", *SLUG, "--as", "sme", "customer", "agreed")
    by_viewer = cli("review_mapping", *SLUG, "--as", "viewer", "customer.*", "agreed")

    assert whole_entity.code == 1
    assert "Name an attribute: 'customer.ATTRIBUTE' or 'customer.*'." in whole_entity.err
    assert by_viewer.code == 1 and "may" in by_viewer.err
    assert not AttributeMapping.objects.exclude(sme_review=SmeReview.NOT_REVIEWED).exists()
