"""Review requests and decisions: who may decide which gate, what is refused (nothing changed),
and that every decision points at the exact version and content hash it decided."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mappings.models import EntityMapping
from mappings.services import mapping as mapping_services
from signoff import selectors, services
from signoff.choices import AuditKind, Gate, NotificationKind, ReviewState, UatClassification
from signoff.models import AuditEvent, Decision, ReviewRequest
from workbench.models import Notification

from ..factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(ready, ba):
    return services.do_submit_for_review(
        engagement=ready, gate=Gate.MAPPING, message="Walk-through done", acting_user=ba
    )


def _refused(exc_type, fn, **kwargs) -> str:
    with pytest.raises(exc_type) as refused:
        fn(**kwargs)
    return " ".join(refused.value.messages) if exc_type is ValidationError else str(refused.value)


def _unchanged(review):
    review.refresh_from_db()
    assert review.state == ReviewState.REQUESTED
    assert not Decision.objects.exists()


def test_the_named_sme_approves_the_exact_version_and_hash(review, sme, ba):
    # When the named mapping sign-off owner approves with a comment
    decision = services.do_decide(
        review=review, verdict="approve", comment="Agreed in the walk-through", acting_user=sme
    )

    # Then the decision is bound to version 1 and its hash, and the review is approved
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED
    assert decision.version == review.version
    assert decision.content_hash == review.version.content_hash
    assert decision.role == "client_sme"
    assert decision.history.get().history_user == sme
    assert [h.state for h in review.history.order_by("history_id")] == ["requested", "approved"]
    event = AuditEvent.objects.get(kind=AuditKind.REVIEW_APPROVED)
    assert (event.actor, event.gate, event.from_state, event.to_state, event.message) == (
        sme,
        Gate.MAPPING,
        "requested",
        "approved",
        "Agreed in the walk-through",
    )
    assert event.content_hash == review.version.content_hash
    # and the submitter is told
    note = Notification.objects.get(recipient=ba, kind=NotificationKind.REVIEW_DECIDED)
    assert note.subject.startswith("Mapping sign-off: version 1 approved by ")


def test_the_approver_may_open_the_review_first(review, sme):
    services.do_start_review(review=review, acting_user=sme)
    review.refresh_from_db()
    assert review.state == ReviewState.IN_REVIEW
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED


def test_a_rejection_needs_a_comment(review, sme):
    message = _refused(
        ValidationError, services.do_decide, review=review, verdict="reject", acting_user=sme
    )
    assert message == "Say what needs to change: a rejection needs a comment."
    _unchanged(review)

    services.do_decide(
        review=review, verdict="reject", comment="Lifecycle needs the last order.", acting_user=sme
    )
    review.refresh_from_db()
    assert review.state == ReviewState.CHANGES_REQUESTED
    assert AuditEvent.objects.filter(kind=AuditKind.REVIEW_REJECTED).count() == 1


def test_only_the_named_mapping_owner_decides_the_mapping_gate(review, other_sme, lead, sme):
    for user in (other_sme, lead):
        message = _refused(
            PermissionDenied, services.do_decide, review=review, verdict="approve", acting_user=user
        )
        assert (
            message == f"Only {sme.get_full_name()}, the named owner, decides the Mapping sign-off."
        )
    _unchanged(review)


def test_a_viewer_never_decides_and_is_told_who_does(review, viewer, sme):
    message = _refused(
        PermissionDenied, services.do_decide, review=review, verdict="approve", acting_user=viewer
    )
    assert message == (
        f"A Viewer never decides on a review; {sme.get_full_name()}, the named owner, "
        "decides the Mapping sign-off."
    )
    _unchanged(review)


def test_an_outsider_is_refused(review, outsider):
    message = _refused(
        PermissionDenied, services.do_decide, review=review, verdict="approve", acting_user=outsider
    )
    assert message == "Your role in acme-360 does not allow this (view); any member may."
    _unchanged(review)


def test_nobody_approves_a_version_they_submitted(ready, engagement, lead, sme):
    # Given the Implementation Lead is the cutover approver and submits for the cutover gate
    review = services.do_submit_for_review(engagement=ready, gate=Gate.CUTOVER, acting_user=lead)
    message = _refused(
        PermissionDenied, services.do_decide, review=review, verdict="approve", acting_user=lead
    )
    assert message == "You submitted version 1; someone else must decide on it."
    _unchanged(review)
    # Another lead may
    other_lead = member(engagement, "implementation_lead", "lead2")
    services.do_decide(review=review, verdict="approve", acting_user=other_lead)
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED


def test_the_uat_gate_is_decided_by_the_named_etl_owner(ready, ba, ops, sme):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.UAT, acting_user=ba)
    message = _refused(
        PermissionDenied, services.do_decide, review=review, verdict="approve", acting_user=sme
    )
    assert message == f"Only {ops.get_full_name()}, the named owner, decides the UAT sign-off."
    services.do_decide(review=review, verdict="approve", acting_user=ops)
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED


def test_the_cutover_gate_is_decided_by_an_implementation_lead(ready, ba, sme, lead):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.CUTOVER, acting_user=ba)
    message = _refused(
        PermissionDenied, services.do_decide, review=review, verdict="approve", acting_user=sme
    )
    assert message == "Only an Implementation Lead decides the Cutover."
    services.do_decide(review=review, verdict="approve", acting_user=lead)


def test_approving_twice_is_refused(review, sme):
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    message = _refused(
        ValidationError, services.do_decide, review=review, verdict="approve", acting_user=sme
    )
    assert message == "Version 1 is already approved for the Mapping sign-off."
    assert Decision.objects.count() == 1
    message = _refused(
        ValidationError,
        services.do_decide,
        review=review,
        verdict="reject",
        comment="Oops",
        acting_user=sme,
    )
    assert message == "Version 1 is already approved for the Mapping sign-off."


def test_approving_a_superseded_version_is_refused(review, ready, ba, sme):
    # Given the BA changes the mapping and submits version 2 while version 1 is in review
    email = EntityMapping.objects.get(engagement=ready, entity_name="customer").attributes.get(
        attribute_name="email"
    )
    mapping_services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "LOWER(c.email)"}, acting_user=ba
    )
    newer = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    assert newer.version.number == 2

    # Then the old review is superseded, and approving it is refused
    review.refresh_from_db()
    assert review.state == ReviewState.CANCELLED
    assert review.superseded_by == newer
    message = _refused(
        ValidationError, services.do_decide, review=review, verdict="approve", acting_user=sme
    )
    assert message == "Version 1 was superseded by version 2; decide on the newer version."
    assert not Decision.objects.exists()
    assert AuditEvent.objects.filter(kind=AuditKind.REVIEW_SUPERSEDED, review=review).exists()
    # the approver was told the old request is void
    assert Notification.objects.filter(
        recipient=sme, kind=NotificationKind.REVIEW_INVALIDATED
    ).exists()


def test_an_open_review_of_an_older_version_is_refused_once_a_newer_version_covers_it(
    ready, ba, ops
):
    # A UAT review of version 1, then a whole-spec version 2 frozen for other reasons
    uat = services.do_submit_for_review(engagement=ready, gate=Gate.UAT, acting_user=ba)
    email = EntityMapping.objects.get(engagement=ready, entity_name="customer").attributes.get(
        attribute_name="email"
    )
    mapping_services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "LOWER(c.email)"}, acting_user=ba
    )
    services.do_submit_version(engagement=ready, acting_user=ba)
    message = _refused(
        ValidationError, services.do_decide, review=uat, verdict="approve", acting_user=ops
    )
    assert message == "Version 1 was superseded by version 2; decide on the newer version."


def test_uat_signoff_is_refused_while_uat_items_are_open(ready, ba, sme, ops):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.UAT, acting_user=ba)
    item = services.do_raise_uat_item(
        engagement=ready,
        data={
            "entity_name": "customer",
            "attribute_name": "email",
            "classification": UatClassification.MAPPING_CHANGE,
            "description": "Emails keep their trailing spaces in the output.",
            "owner": "ba",
        },
        acting_user=sme,
    )
    message = _refused(
        ValidationError, services.do_decide, review=review, verdict="approve", acting_user=ops
    )
    assert message == f"UAT sign-off is refused while 1 UAT item is open: #{item.pk}."
    _unchanged(review)

    services.do_resolve_uat_item(
        item=item, resolution="TRIM added in v2 of the ETL", acting_user=ba
    )
    services.do_decide(review=review, verdict="approve", acting_user=ops)
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED


def test_states_move_only_along_the_allowed_moves(review, sme, ba):
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    message = _refused(ValidationError, services.do_cancel_review, review=review, acting_user=ba)
    assert message == "Version 1 is already approved for the Mapping sign-off."
    review.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services._move_review(review, ReviewState.IN_REVIEW, actor=ba, kind="x")
    assert refused.value.messages == ["A review that is approved cannot become in review."]


def test_the_requester_cancels_and_the_approver_is_told(review, ba, sme, other_sme):
    message = _refused(PermissionDenied, services.do_cancel_review, review=review, acting_user=sme)
    assert (
        message
        == "Your role in acme-360 does not allow this (submit for review); only an Implementation Lead or Tech BA may."
    )
    services.do_cancel_review(review=review, reason="Wrong scope", acting_user=ba)
    review.refresh_from_db()
    assert review.state == ReviewState.CANCELLED
    note = Notification.objects.get(recipient=sme, kind=NotificationKind.REVIEW_INVALIDATED)
    assert note.subject == "Mapping sign-off: the review of version 1 was cancelled"
    message = _refused(
        ValidationError, services.do_decide, review=review, verdict="approve", acting_user=sme
    )
    assert message == "This review was cancelled."


def test_the_same_version_is_not_requested_twice_for_a_gate(review, ready, ba):
    message = _refused(
        ValidationError,
        services.do_submit_for_review,
        engagement=ready,
        gate=Gate.MAPPING,
        acting_user=ba,
    )
    assert message == "Version 1 is already in review for the Mapping sign-off."
    assert ReviewRequest.objects.count() == 1


def test_one_open_review_per_gate_and_scope_is_a_database_rule(review, ba):
    duplicate = ReviewRequest(
        engagement=review.engagement,
        gate=Gate.MAPPING,
        version=review.version,
        scope_key="",
        requested_by=ba,
    )
    with pytest.raises(ValidationError) as refused:
        duplicate.full_clean()
    assert "A review of this gate and scope is already open." in refused.value.messages


def test_requesting_notifies_the_owner_in_app_and_by_email_on_commit(
    ready, ba, sme, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    note = Notification.objects.get(recipient=sme)
    assert note.kind == NotificationKind.REVIEW_REQUESTED
    assert note.subject == "Mapping sign-off requested: version 1 (whole spec)"
    assert note.emailed_at is not None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [sme.email]
    assert mailoutbox[0].subject == "[Acme 360] Mapping sign-off requested: version 1 (whole spec)"
    assert selectors.unread_count(user=sme) == 1
    services.do_mark_read(notification=note, acting_user=sme)
    assert selectors.unread_count(user=sme) == 0
