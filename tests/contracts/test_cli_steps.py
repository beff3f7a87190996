"""Interface understanding notes from the command line; the phase output is done once every entity
of the published contract has a note."""

from __future__ import annotations

import pytest

from contracts import services
from contracts.models import InterfaceNote
from contracts.phases import interface_notes_state
from tests.clirun import run_cli
from workbench.phases import OutputStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def cli(capsys, monkeypatch):
    return lambda *argv: run_cli(capsys, monkeypatch, *argv)


def test_the_ba_notes_every_entity_and_the_interface_notes_are_done(
    cli, engagement, ba, small_layer
):
    services.contract_publish(layer=small_layer, acting_user=ba)

    on_entity = cli(
        "add_interface_note", "--engagement", "acme-360", "--as", "ba", "--format", "json",
        "customer", "One row per golden-record customer.",
    )  # fmt: skip
    halfway = interface_notes_state(engagement)
    on_attribute = cli(
        "add_interface_note", "--engagement", "acme-360", "--as", "ba", "email_event",
        "--attribute", "amount", "In the client's currency.",
    )  # fmt: skip

    assert on_entity.code == 0, on_entity.err
    note = InterfaceNote.objects.get(entity_name="customer")
    assert on_entity.json() == {
        "engagement": "acme-360",
        "id": note.pk,
        "entity": "customer",
        "attribute": None,
        "text": "One row per golden-record customer.",
        "author": "ba",
    }
    assert (halfway.status, halfway.detail) == (
        OutputStatus.IN_PROGRESS,
        "1 note; 1 of 2 entities noted",
    )
    assert on_attribute.code == 0, on_attribute.err
    assert on_attribute.out.endswith("on email_event.amount by ba\n")
    assert interface_notes_state(engagement).status == OutputStatus.DONE
    assert note.history.get().history_user == ba


def test_notes_on_a_draft_contract_are_in_progress_until_one_is_published(
    cli, engagement, ba, small_layer
):
    for entity in ("customer", "email_event"):
        noted = cli(
            "add_interface_note", "--engagement", "acme-360", "--as", "ba", entity, "Read it."
        )
        assert noted.code == 0, noted.err

    draft = interface_notes_state(engagement)
    services.contract_publish(layer=small_layer, acting_user=ba)

    assert (draft.status, draft.detail) == (
        OutputStatus.IN_PROGRESS,
        "2 notes; no published contract",
    )
    assert interface_notes_state(engagement).status == OutputStatus.DONE


def test_a_note_on_what_the_contract_lacks_or_an_empty_note_is_refused(
    cli, engagement, ba, small_layer
):
    no_entity = cli("add_interface_note", "--engagement", "acme-360", "--as", "ba", "order", "x")
    no_attribute = cli(
        "add_interface_note", "--engagement", "acme-360", "--as", "ba", "customer",
        "--attribute", "age", "x",
    )  # fmt: skip
    empty = cli("add_interface_note", "--engagement", "acme-360", "--as", "ba", "customer", "  ")

    assert no_entity.code == 1 and "The contract has no entity 'order'." in no_entity.err
    assert no_attribute.code == 1
    assert "The entity 'customer' has no attribute 'age'." in no_attribute.err
    assert empty.code == 1 and "text: This field cannot be blank." in empty.err
    assert not InterfaceNote.objects.exists()


def test_a_client_sme_may_not_write_interface_notes(cli, engagement, ba, sme, small_layer):
    refused = cli(
        "add_interface_note", "--engagement", "acme-360", "--as", "sme", "customer", "Mine."
    )

    assert refused.code == 1
    assert "does not allow this (write notes)" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert not InterfaceNote.objects.exists()


def test_no_contract_yet_is_said_plainly(cli, engagement, ba):
    refused = cli("add_interface_note", "--engagement", "acme-360", "--as", "ba", "customer", "x")

    assert refused.code == 1
    assert "Import a contract before writing notes on it." in refused.err
