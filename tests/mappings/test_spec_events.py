"""Spec changes are announced by the mapping services themselves (mappings.events): one on-commit
callback per engagement per transaction, bulk writes included, never able to break the save."""

from __future__ import annotations

import pytest
from django.db import transaction

from mappings import events
from mappings.services import mapping as services

from .conftest import attribute

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """A spy handler: the (engagement, entities) of every call."""
    calls: list[tuple[int, frozenset[str]]] = []

    def spy(*, engagement, entities):
        calls.append((engagement.pk, entities))

    events.register_spec_change_handler(spy)
    yield calls
    events.unregister_spec_change_handler(spy)


def test_a_bulk_prepare_queues_one_callback_naming_every_entity(
    published, cataloged, engagement, ba, heard, django_capture_on_commit_callbacks
):
    # When the BA prepares the mapping (bulk_create_with_history: no per-row signal is sent)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        counts = services.mapping_prepare(engagement=engagement, acting_user=ba)

    # Then one callback reports every entity created
    assert counts["attributes"] > 20
    assert len(callbacks) == 1
    [(engagement_id, entities)] = heard
    assert engagement_id == engagement.pk
    assert {"customer", "campaign"} <= entities


@pytest.mark.django_db(transaction=True)
def test_several_writes_in_one_transaction_add_up_to_one_callback(
    customer, engagement, ba, heard, django_capture_on_commit_callbacks
):
    # When two entities and an attribute change in one transaction
    campaign = engagement.entity_mappings.get(entity_name="campaign")
    heard.clear()  # (what the fixtures' own commits reported)
    with transaction.atomic(), django_capture_on_commit_callbacks() as callbacks:
        services.attribute_mapping_update(
            attribute_mapping=attribute(customer, "email"),
            data={"transformation": "LOWER(c.email)"},
            acting_user=ba,
        )
        services.entity_mapping_update(
            entity_mapping=campaign, data={"notes": "Every brand."}, acting_user=ba
        )

    # Then one callback, run on commit, tells both entities
    assert len(callbacks) == 1
    assert heard == [(engagement.pk, frozenset({"customer", "campaign"}))]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_does_not_swallow_a_later_change(
    customer, engagement, ba, heard, django_capture_on_commit_callbacks
):
    campaign = engagement.entity_mappings.get(entity_name="campaign")
    heard.clear()
    with transaction.atomic(), django_capture_on_commit_callbacks() as callbacks:
        # Given a change made in a savepoint that is rolled back (as the spec import's dry run)
        try:
            with transaction.atomic():
                services.entity_mapping_update(
                    entity_mapping=campaign, data={"notes": "Dry run."}, acting_user=ba
                )
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        # When a real change follows in the same transaction
        services.attribute_mapping_update(
            attribute_mapping=attribute(customer, "email"),
            data={"transformation": "LOWER(c.email)"},
            acting_user=ba,
        )

    # Then it is reported on commit, and the rolled-back one is not
    assert len(callbacks) == 1
    assert heard == [(engagement.pk, frozenset({"customer"}))]


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_never_breaks_the_save(customer, ba, caplog):
    heard = []

    def broken(*, engagement, entities):
        raise RuntimeError("the handler is broken")

    def spy(*, engagement, entities):
        heard.append(entities)

    for handler in (broken, spy):  # the broken one first: the next must still run
        events.register_spec_change_handler(handler)
    try:
        # When a rule is saved while a handler fails on commit
        email = services.attribute_mapping_update(
            attribute_mapping=attribute(customer, "email"),
            data={"transformation": "LOWER(c.email)"},
            acting_user=ba,
        )
    finally:
        for handler in (broken, spy):
            events.unregister_spec_change_handler(handler)

    # Then the save stands, the other handlers ran, and the failure is logged
    email.refresh_from_db()
    assert email.transformation == "LOWER(c.email)"
    assert heard == [frozenset({"customer"})]
    assert "Spec change handler broken failed." in caplog.text
