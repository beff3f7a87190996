"""publish_contract: the Tech BA publishes the draft import_contract stored, from the command line."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError

from contracts import services
from contracts.choices import LayerStatus
from contracts.models import InterfaceLayer
from tests.clirun import run

from .conftest import as_yaml, small_contract

pytestmark = pytest.mark.django_db

SLUG = ("--engagement", "acme-360")


def draft(engagement, user, version: str) -> InterfaceLayer:
    return services.contract_import(
        engagement=engagement,
        file_name=f"small-{version}.yaml",
        content=as_yaml(small_contract(version=version)),
        acting_user=user,
    )


def statuses() -> dict[str, str]:
    return dict(InterfaceLayer.objects.values_list("version", "status"))


def test_the_newest_draft_is_published_by_default(engagement, ba):
    draft(engagement, ba, "1.0.0")

    output = run("publish_contract", *SLUG, "--as", "ba")

    assert output == "published Small 360 1.0.0\n"
    layer = InterfaceLayer.objects.get()
    assert (layer.status, layer.published_by) == (LayerStatus.PUBLISHED, ba)
    assert layer.history.first().history_user == ba


def test_a_named_version_supersedes_the_published_one_and_reports_json(engagement, ba):
    first = draft(engagement, ba, "1.0.0")
    services.contract_publish(layer=first, acting_user=ba)
    draft(engagement, ba, "1.1.0")
    draft(engagement, ba, "1.2.0")

    data = json.loads(
        run("publish_contract", *SLUG, "--as", "ba", "--version", "1.1.0", "--format", "json")
    )

    assert data == {
        "engagement": "acme-360",
        "name": "Small 360",
        "version": "1.1.0",
        "status": "published",
        "superseded": "1.0.0",
    }
    assert statuses() == {"1.0.0": "superseded", "1.1.0": "published", "1.2.0": "draft"}


def test_nothing_to_publish_or_an_unknown_version_is_refused(engagement, ba):
    with pytest.raises(CommandError) as error:
        run("publish_contract", *SLUG, "--as", "ba")
    assert str(error.value) == (
        "acme-360 has no draft contract version to publish; import one with import_contract."
    )

    draft(engagement, ba, "1.0.0")
    with pytest.raises(CommandError) as error:
        run("publish_contract", *SLUG, "--as", "ba", "--version", "9.9.9")
    assert str(error.value) == "acme-360 has no contract version '9.9.9' (versions: 1.0.0)."
    assert statuses() == {"1.0.0": "draft"}


def test_publishing_a_published_version_again_is_refused(engagement, ba):
    services.contract_publish(layer=draft(engagement, ba, "1.0.0"), acting_user=ba)
    with pytest.raises(CommandError) as error:
        run("publish_contract", *SLUG, "--as", "ba", "--version", "1.0.0")
    assert str(error.value) == "A published contract version cannot become published."


def test_a_client_sme_may_not_publish_and_is_told_who_may(engagement, ba, sme):
    draft(engagement, ba, "1.0.0")
    with pytest.raises(CommandError) as error:
        run("publish_contract", *SLUG, "--as", "sme")
    assert str(error.value) == (
        "Your role in acme-360 does not allow this (import contract); "
        "only an Implementation Lead or Tech BA may."
    )
    assert statuses() == {"1.0.0": "draft"}
