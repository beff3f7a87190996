"""Resolving UAT feedback from the command line: the item's owner, a Tech BA or a Client SME closes
it with how it was resolved; the UAT feedback output is done once none is open."""

from __future__ import annotations

import pytest

from signoff import services
from signoff.choices import UatState
from signoff.models import UatItem
from signoff.phases import uat_feedback_state
from tests.clirun import run_cli
from workbench.phases import OutputStatus

from ..factories import EngagementFactory

pytestmark = pytest.mark.django_db

FEEDBACK = {
    "entity_name": "customer",
    "attribute_name": "email",
    "classification": "etl_fix",
    "description": "Trailing spaces in the output file.",
    "owner": "etl",
}


@pytest.fixture
def cli(capsys, monkeypatch):
    return lambda *argv: run_cli(capsys, monkeypatch, *argv)


@pytest.fixture
def item(ready, sme):
    return services.do_raise_uat_item(engagement=ready, data=FEEDBACK, acting_user=sme)


def test_the_items_owner_resolves_it_and_the_feedback_is_done(cli, ready, item, etl):
    """The ETL Developer may not raise feedback, but owns this item and so may close it."""
    assert uat_feedback_state(ready).status == OutputStatus.IN_PROGRESS

    resolved = cli(
        "resolve_uat", "--engagement", "acme-360", "--as", "etl", "--format", "json",
        f"#{item.pk}", "--resolution", "Trimmed in the staging model.",
    )  # fmt: skip

    assert resolved.code == 0, resolved.err
    assert resolved.json() == {
        "engagement": "acme-360",
        "id": item.pk,
        "target": "customer.email",
        "state": "resolved",
        "resolution": "Trimmed in the staging model.",
        "resolved_by": "etl",
        "open_items": 0,
    }
    item.refresh_from_db()
    assert (item.state, item.resolved_by) == (UatState.RESOLVED, etl)
    assert item.history.latest().history_user == etl
    assert uat_feedback_state(ready).status == OutputStatus.DONE


def test_a_viewer_may_not_resolve_an_item(cli, ready, item, viewer):
    refused = cli(
        "resolve_uat", "--engagement", "acme-360", "--as", "viewer", str(item.pk),
        "--resolution", "Looks fine to me.",
    )  # fmt: skip

    assert refused.code == 1
    assert refused.err.strip() == (
        "CommandError: Only the item's owner, a Tech BA or a Client SME resolves it."
    )
    item.refresh_from_db()
    assert item.state == UatState.OPEN


def test_a_resolved_unknown_or_mistyped_item_is_refused(cli, ready, item, ba):
    args = ("resolve_uat", "--engagement", "acme-360", "--as", "ba")
    assert cli(*args, str(item.pk), "--resolution", "Fixed.").code == 0

    again = cli(*args, str(item.pk), "--resolution", "Fixed twice.")
    unknown = cli(*args, "9999", "--resolution", "Fixed.")
    mistyped = cli(*args, "email", "--resolution", "Fixed.")
    empty = cli(*args, str(item.pk), "--resolution", " ")

    assert again.code == 1 and f"UAT item #{item.pk} is already resolved." in again.err
    assert unknown.code == 1 and "acme-360 has no UAT item #9999." in unknown.err
    assert mistyped.code == 2 and "'email' is not a UAT item number." in mistyped.err
    assert empty.code == 1 and "Say how the item was resolved." in empty.err
    item.refresh_from_db()
    assert item.resolution == "Fixed."


def test_another_engagements_item_is_not_found(cli, ready, item, ba, sme):
    other = EngagementFactory(slug="other-engagement")
    foreign = UatItem.objects.create(
        engagement=other,
        entity_name="customer",
        classification="etl_fix",
        description="Not acme's.",
        raised_by=other.created_by,
    )

    refused = cli(
        "resolve_uat", "--engagement", "acme-360", "--as", "ba", str(foreign.pk),
        "--resolution", "Fixed.",
    )  # fmt: skip

    assert refused.code == 1
    assert f"acme-360 has no UAT item #{foreign.pk}." in refused.err
    foreign.refresh_from_db()
    assert foreign.state == UatState.OPEN
