"""UAT feedback items and the cutover checklist; mentions reach the inbox."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mappings.models import EntityMapping
from mappings.services import mapping as mapping_services
from signoff import services
from signoff.choices import AuditKind, CutoverStep, Gate, NotificationKind, UatState
from signoff.models import AuditEvent, CutoverItem, UatItem
from signoff.phases import cutover_state, uat_feedback_state, uat_signoff_state
from workbench.choices import EngagementStatus
from workbench.models import Notification
from workbench.phases import OutputStatus

pytestmark = pytest.mark.django_db

FEEDBACK = {
    "entity_name": "customer",
    "attribute_name": "email",
    "classification": "etl_fix",
    "description": "Trailing spaces in the output file.",
    "owner": "etl",
    "test_result_ref": "42",
}


def test_the_sme_raises_feedback_linked_to_an_attribute_and_a_test_result(ready, sme, etl):
    item = services.do_raise_uat_item(engagement=ready, data=FEEDBACK, acting_user=sme)
    assert (item.target, item.owner, item.state, item.test_result_ref) == (
        "customer.email",
        etl,
        UatState.OPEN,
        "42",
    )
    assert item.get_classification_display() == "ETL fix"
    assert item.history.get().history_user == sme
    event = AuditEvent.objects.get(kind=AuditKind.UAT_RAISED)
    assert (
        event.message == f"#{item.pk} customer.email (ETL fix): Trailing spaces in the output file."
    )
    assert uat_feedback_state(ready).detail == "1 of 1 open"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"entity_name": "planet"}, "entity_name", "'planet' is not an entity of the mapping."),
        (
            {"attribute_name": "shoe_size"},
            "attribute_name",
            "'shoe_size' is not an attribute of customer.",
        ),
        ({"classification": "wish"}, "classification", "Choose Mapping change or ETL fix."),
        ({"owner": "nobody"}, "owner", "'nobody' is not a member of this engagement."),
    ],
)
def test_bad_feedback_is_refused_with_the_place_named(ready, sme, etl, change, field, message):
    with pytest.raises(ValidationError) as refused:
        services.do_raise_uat_item(engagement=ready, data={**FEEDBACK, **change}, acting_user=sme)
    assert refused.value.message_dict == {field: [message]}
    assert not UatItem.objects.exists()


def test_who_raises_and_who_resolves(ready, sme, etl, ops, viewer, ba):
    for user in (etl, ops, viewer):
        with pytest.raises(PermissionDenied):
            services.do_raise_uat_item(engagement=ready, data=FEEDBACK, acting_user=user)
    item = services.do_raise_uat_item(engagement=ready, data=FEEDBACK, acting_user=sme)
    with pytest.raises(PermissionDenied) as denied:
        services.do_resolve_uat_item(item=item, resolution="Fixed", acting_user=ops)
    assert str(denied.value) == "Only the item's owner, a Tech BA or a Client SME resolves it."
    with pytest.raises(ValidationError) as refused:
        services.do_resolve_uat_item(item=item, resolution="  ", acting_user=etl)
    assert refused.value.message_dict == {"resolution": ["Say how the item was resolved."]}
    # the owner resolves it
    services.do_resolve_uat_item(item=item, resolution="TRIM in the load", acting_user=etl)
    item.refresh_from_db()
    assert (item.state, item.resolved_by, item.resolution) == (
        UatState.RESOLVED,
        etl,
        "TRIM in the load",
    )
    with pytest.raises(ValidationError) as refused:
        services.do_resolve_uat_item(item=item, resolution="again", acting_user=etl)
    assert refused.value.messages == [f"UAT item #{item.pk} is already resolved."]
    assert uat_feedback_state(ready).status == OutputStatus.DONE
    services.do_reopen_uat_item(item=item, reason="Still there", acting_user=sme)
    item.refresh_from_db()
    assert item.state == UatState.OPEN
    assert [e.kind for e in AuditEvent.objects.order_by("id")][-3:] == [
        AuditKind.UAT_RAISED,
        AuditKind.UAT_RESOLVED,
        AuditKind.UAT_REOPENED,
    ]


def _tick_all(engagement, etl, ops):
    services.do_tick_cutover(
        engagement=engagement, step=CutoverStep.PIPELINES_DEPLOYED, acting_user=etl
    )
    services.do_tick_cutover(
        engagement=engagement,
        step=CutoverStep.FIRST_RUN_VALIDATED,
        link="https://ci.acme.example/runs/981",
        acting_user=etl,
    )
    services.do_tick_cutover(
        engagement=engagement, step=CutoverStep.SCHEDULE_CONFIRMED, acting_user=ops
    )


def test_each_step_is_ticked_by_its_role_with_who_and_when(ready, etl, ops, sme, lead):
    with pytest.raises(PermissionDenied) as denied:
        services.do_tick_cutover(
            engagement=ready, step=CutoverStep.SCHEDULE_CONFIRMED, acting_user=etl
        )
    assert (
        str(denied.value)
        == "'Load schedule confirmed by Client Ops' is ticked by the Client Ops (L2)."
    )
    with pytest.raises(PermissionDenied) as denied:
        services.do_tick_cutover(
            engagement=ready, step=CutoverStep.PIPELINES_DEPLOYED, acting_user=sme
        )
    assert (
        str(denied.value)
        == "Your role in acme-360 does not allow this (tick cutover); only an Implementation Lead, ETL Developer or Client Ops (L2) may."
    )
    with pytest.raises(ValidationError) as refused:
        services.do_tick_cutover(
            engagement=ready, step=CutoverStep.FIRST_RUN_VALIDATED, acting_user=etl
        )
    assert refused.value.message_dict == {"link": ["Link the validated run and its result."]}
    assert not CutoverItem.objects.exists()

    item = services.do_tick_cutover(
        engagement=ready, step=CutoverStep.PIPELINES_DEPLOYED, acting_user=etl
    )
    assert (item.ticked, item.ticked_by) == (True, etl)
    assert item.ticked_at is not None
    with pytest.raises(ValidationError) as refused:
        services.do_tick_cutover(
            engagement=ready, step=CutoverStep.PIPELINES_DEPLOYED, acting_user=etl
        )
    assert refused.value.messages == [
        f"'Pipelines deployed' was already ticked by {etl.get_full_name()}."
    ]
    assert cutover_state(ready).detail == "1 of 3 ticked"
    services.do_untick_cutover(
        engagement=ready, step=CutoverStep.PIPELINES_DEPLOYED, acting_user=etl
    )
    assert cutover_state(ready).status == OutputStatus.NOT_STARTED


def test_all_ticked_and_the_cutover_approved_moves_the_engagement_to_production(
    ready, ba, lead, etl, ops
):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.CUTOVER, acting_user=ba)
    services.do_decide(review=review, verdict="approve", comment="Go", acting_user=lead)
    ready.refresh_from_db()
    assert ready.status == EngagementStatus.ACTIVE  # the checklist is not done

    _tick_all(ready, etl, ops)

    ready.refresh_from_db()
    assert ready.status == EngagementStatus.IN_PRODUCTION
    latest = ready.history.order_by("-history_id").first()
    assert (latest.status, latest.history_user) == (EngagementStatus.IN_PRODUCTION, lead)
    event = AuditEvent.objects.get(kind=AuditKind.IN_PRODUCTION)
    assert event.actor == ops
    assert cutover_state(ready).status == OutputStatus.DONE
    with pytest.raises(ValidationError) as refused:
        services.do_untick_cutover(
            engagement=ready, step=CutoverStep.SCHEDULE_CONFIRMED, acting_user=ops
        )
    assert refused.value.messages == [
        "The engagement is in production: the cutover checklist is closed."
    ]


def test_a_complete_checklist_goes_live_when_the_cutover_is_approved(ready, ba, lead, etl, ops):
    _tick_all(ready, etl, ops)
    ready.refresh_from_db()
    assert ready.status == EngagementStatus.ACTIVE
    review = services.do_submit_for_review(engagement=ready, gate=Gate.CUTOVER, acting_user=ba)
    services.do_decide(review=review, verdict="approve", acting_user=lead)
    ready.refresh_from_db()
    assert ready.status == EngagementStatus.IN_PRODUCTION


def test_uat_signoff_phase_output(ready, ba, ops):
    assert uat_signoff_state(ready).status == OutputStatus.NOT_STARTED
    review = services.do_submit_for_review(engagement=ready, gate=Gate.UAT, acting_user=ba)
    assert uat_signoff_state(ready).detail == "version 1 requested"
    services.do_decide(review=review, verdict="approve", acting_user=ops)
    assert uat_signoff_state(ready).status == OutputStatus.DONE


def test_mentioned_members_are_notified_but_not_the_author_or_strangers(
    ready, ba, sme, outsider, django_capture_on_commit_callbacks, mailoutbox
):
    # The mapping comment service calls notify_mentions for the members it found
    customer = EntityMapping.objects.get(engagement=ready, entity_name="customer")
    with django_capture_on_commit_callbacks(execute=True):
        comment = mapping_services.comment_add(
            mapping=customer, text="@sme @ba @outsider can you check?", acting_user=ba
        )
    note = Notification.objects.get(kind=NotificationKind.MENTIONED)
    assert note.recipient == sme
    assert note.subject == f"{ba.get_full_name()} mentioned you on customer"
    assert note.body == "@sme @ba @outsider can you check?"
    assert [m.to for m in mailoutbox] == [[sme.email]]
    # Called directly, it skips the author, non-members and unknown names
    comment.mentions = ["sme", "ba", "outsider", "ghost"]
    assert [n.recipient for n in services.notify_mentions(comment)] == [sme]
