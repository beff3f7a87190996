"""Changed since sign-off: any change to an approved mapping marks the approval everywhere it is
shown (selector for the grid, sign-off table for the export, dashboard output), with the diff,
until a new version is approved; the approver is told once."""

from __future__ import annotations

import pytest

from mappings.models import EntityMapping
from mappings.services import mapping as mapping_services
from signoff import selectors, services
from signoff.choices import Gate, NotificationKind
from signoff.phases import mapping_signoff_state
from workbench.models import Notification
from workbench.phases import OutputStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(ready, ba, sme):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    return review


def _change_email(engagement, user, rule="LOWER(c.email)"):
    email = EntityMapping.objects.get(engagement=engagement, entity_name="customer").attributes.get(
        attribute_name="email"
    )
    mapping_services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": rule}, acting_user=user
    )


def test_an_untouched_approval_is_not_flagged(approved, ready):
    changed = selectors.changed_since_signoff(engagement=ready)
    assert changed["changed"] is False
    assert changed["entities"]["customer"]["changed"] is False
    assert changed["entities"]["customer"]["version"] == 1
    assert changed["attributes"][("customer", "email")] == {
        "version": 1,
        "changed": False,
        "changes": (),
    }
    assert mapping_signoff_state(ready).status == OutputStatus.DONE
    assert [row["changed_since"] for row in selectors.signoff_table(engagement=ready)] == [False]


def test_a_change_after_approval_is_flagged_with_its_diff_everywhere(approved, ready, ba, sme):
    # When the BA edits an approved attribute
    _change_email(ready, ba)

    # Then the grid selector flags the entity and the attribute, with the field diff
    changed = selectors.changed_since_signoff(engagement=ready)
    assert changed["changed"] is True
    expected = {
        "entity": "customer",
        "attribute": "email",
        "field": "transformation",
        "before": "LOWER(TRIM(c.email))",
        "after": "LOWER(c.email)",
    }
    assert changed["entities"]["customer"]["changed"] is True
    assert changed["entities"]["customer"]["changes"] == [expected]
    assert changed["attributes"][("customer", "email")]["changes"] == (expected,)
    assert changed["attributes"][("customer", "first_name")]["changed"] is False
    assert changed["entities"]["campaign"]["changed"] is False
    # the sign-off table (Excel cover sheet) and the dashboard say so too
    (row,) = selectors.signoff_table(engagement=ready)
    assert row["changed_since"] is True
    assert row["approver_username"] == sme.username
    assert row["role"] == "Client SME"
    assert row["decision"] == "Approved"
    assert row["version"] == 1
    state = mapping_signoff_state(ready)
    assert state.status == OutputStatus.IN_PROGRESS
    assert state.detail == "version 1 approved; changed since sign-off: customer"


def test_the_flag_clears_when_a_new_version_is_approved(approved, ready, ba, sme):
    _change_email(ready, ba)
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    changed = selectors.changed_since_signoff(engagement=ready)
    assert changed["changed"] is False
    assert changed["entities"]["customer"]["version"] == 2
    # the old approval stays in the table, marked changed; the new one is clean
    assert [
        (r["version"], r["changed_since"]) for r in selectors.signoff_table(engagement=ready)
    ] == [
        (1, True),
        (2, False),
    ]


def test_an_entity_approval_covers_only_its_entities(ready, ba, sme):
    review = services.do_submit_for_review(
        engagement=ready, gate=Gate.MAPPING, entities=["campaign"], acting_user=ba
    )
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    _change_email(ready, ba)  # customer was never approved
    changed = selectors.changed_since_signoff(engagement=ready)
    assert set(changed["entities"]) == {"campaign"}
    assert changed["changed"] is False


@pytest.mark.django_db(transaction=True)
def test_the_approver_and_requester_are_told_once_after_the_change_commits(
    approved, ready, ba, sme, mailoutbox
):
    # When the BA's change commits (a real transaction: the check runs on commit)
    _change_email(ready, ba)

    # Then the approver and the requester are told, in the inbox and by e-mail
    notes = Notification.objects.filter(kind=NotificationKind.REVIEW_INVALIDATED)
    assert sorted(n.recipient.username for n in notes) == ["ba", "sme"]
    assert {n.subject for n in notes} == {
        "Mapping sign-off of version 1: the mapping changed since sign-off"
    }
    assert sorted(m.to[0] for m in mailoutbox if "changed since" in m.subject) == [
        ba.email,
        sme.email,
    ]
    # and only once, however often it changes again
    _change_email(ready, ba, rule="UPPER(c.email)")
    assert Notification.objects.filter(kind=NotificationKind.REVIEW_INVALIDATED).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_spec_import_changing_many_rows_tells_each_approver_once(approved, ready, ba, sme):
    from exports.services import spec as spec_services
    from tests.exports.spec.conftest import edit, export_bytes, open_workbook, save

    # Given the approved mapping exported, and three rules of two entities edited in the workbook
    workbook = open_workbook(export_bytes(ready, ba))
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")
    edit(workbook["Mapping"], ("customer", "phone"), "Edge Cases", "Kept as typed.")
    edit(workbook["Entities"], ("campaign",), "Notes", "Campaigns of every brand.")

    # When the BA imports and applies it (every row through the mapping services, one commit)
    spec_import = spec_services.spec_import_preview(
        engagement=ready, file_name="edited.xlsx", content=save(workbook), acting_user=ba
    )
    applied = spec_services.spec_import_apply(spec_import=spec_import, acting_user=ba)

    # Then the approver and the requester are each told once
    assert applied.applied_count == 3
    notes = Notification.objects.filter(kind=NotificationKind.REVIEW_INVALIDATED)
    assert sorted(n.recipient.username for n in notes) == ["ba", "sme"]
