"""Reviews of a spec version at a gate: request (superseding an open one), start, decide, cancel.

Who may decide a gate is the core's policy (workbench.policy); the review's state moves only
along signoff.choices.REVIEW_MOVES, in `_move_review`.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from mappings.snapshot import content_hash, spec_snapshot
from workbench import policy
from workbench import services as workbench_services
from workbench.choices import NotificationKind, Role
from workbench.history import save_with_history
from workbench.models import Engagement
from workbench.policy import Action

from .. import selectors
from ..choices import (
    OPEN_REVIEW_STATES,
    REVIEW_MOVES,
    VERDICT_STATE,
    AuditKind,
    Gate,
    ReviewState,
    Verdict,
)
from ..models import Decision, ReviewRequest, SpecVersion
from ._common import _audit, _lock_for_write, _name, _url
from .cutover import _go_live_if_ready
from .versions import _check_entities, do_submit_version


def _move_review(review: ReviewRequest, to_state: str, *, actor, kind: str, message: str = ""):
    """The one place a review's state moves: only the moves in REVIEW_MOVES."""
    from_state = review.state
    if to_state not in REVIEW_MOVES[from_state]:
        raise ValidationError(
            f"A review that is {ReviewState(from_state).label.lower()} cannot become "
            f"{ReviewState(to_state).label.lower()}.",
            code="invalid_transition",
        )
    review.state = to_state
    if to_state not in OPEN_REVIEW_STATES:
        review.closed_at = timezone.now()
    save_with_history(review, acting_user=actor)
    _audit(
        review.engagement,
        kind,
        actor,
        gate=review.gate,
        review=review,
        version=review.version,
        content_hash=review.version.content_hash,
        from_state=from_state,
        to_state=to_state,
        message=message,
    )


# Who decides a gate is the core's policy; these names stay importable from here.
gate_owner = policy.gate_owner
gate_deciders = policy.gate_deciders


def check_may_decide(*, review: ReviewRequest, acting_user: User) -> None:
    """Raise PermissionDenied unless `acting_user` may decide `review` (used by pages to hide too):
    the gate's policy, and never on a version they submitted or asked to review themselves."""
    policy.check_decide_gate(acting_user, review.engagement, review.gate)
    if review.version.created_by_id == acting_user.pk or review.requested_by_id == acting_user.pk:
        raise PermissionDenied(
            f"You submitted version {review.version.number}; someone else must decide on it."
        )


@transaction.atomic
def do_request_review(
    *, version: SpecVersion, gate: str, acting_user: User, message: str = ""
) -> ReviewRequest:
    """Ask the gate's approver to review `version`; an open review of the same gate and scope is
    superseded (cancelled, pointing at the new one) and its approver told."""
    engagement = version.engagement
    policy.check(acting_user, engagement, Action.SUBMIT_FOR_REVIEW)
    if gate not in Gate.values:
        raise ValidationError({"gate": f"Unknown gate '{gate}'."})
    gate = Gate(gate)
    if policy.GATE_OWNER[gate] is not None and gate_owner(engagement, gate) is None:
        raise ValidationError(
            {"gate": f"Nobody is named to give the {gate.label}: name its owner first."}
        )
    newer = selectors.superseding_version(version)
    if newer is not None:
        raise ValidationError(
            {"version": f"Version {version.number} was superseded by version {newer.number}."}
        )
    scope_key = ",".join(version.entities)
    previous = list(
        ReviewRequest.objects.select_for_update(of=("self",))
        .filter(engagement=engagement, gate=gate, scope_key=scope_key, state__in=OPEN_REVIEW_STATES)
        .select_related("version")
    )
    for old in previous:
        if old.version_id == version.pk:
            raise ValidationError(
                f"Version {version.number} is already in review for the {gate.label}."
            )
    for old in previous:
        _move_review(
            old,
            ReviewState.CANCELLED,
            actor=acting_user,
            kind=AuditKind.REVIEW_SUPERSEDED,
            message=f"Superseded by a review of version {version.number}.",
        )
    review = ReviewRequest(
        engagement=engagement,
        gate=gate,
        version=version,
        scope_key=scope_key,
        message=message.strip(),
        requested_by=acting_user,
    )
    save_with_history(review, acting_user=acting_user)
    _audit(
        engagement,
        AuditKind.REVIEW_REQUESTED,
        acting_user,
        gate=gate,
        review=review,
        version=version,
        content_hash=version.content_hash,
        to_state=review.state,
        message=review.message,
    )
    deciders = gate_deciders(engagement, gate)
    url = _url("signoff-review", engagement, review.pk)
    for old in previous:
        old.superseded_by = review
        save_with_history(old, acting_user=acting_user)
        workbench_services.notify(
            [*deciders, old.requested_by],
            engagement=engagement,
            kind=NotificationKind.REVIEW_INVALIDATED,
            subject=f"{gate.label}: version {old.version.number} superseded by version "
            f"{version.number}",
            body=f"{_name(acting_user)} submitted version {version.number}; the review of "
            f"version {old.version.number} is closed.",
            url=url,
            actor=acting_user,
        )
    workbench_services.notify(
        deciders,
        engagement=engagement,
        kind=NotificationKind.REVIEW_REQUESTED,
        subject=f"{gate.label} requested: version {version.number} ({version.scope_label})",
        body=f"{_name(acting_user)} asks you to review version {version.number} "
        f"(hash {version.short_hash}).\n{review.message}".strip(),
        url=url,
        actor=acting_user,
    )
    return review


@transaction.atomic
def do_submit_for_review(
    *,
    engagement: Engagement,
    gate: str,
    acting_user: User,
    entities: list[str] | None = None,
    message: str = "",
) -> ReviewRequest:
    """ "Submit for review": freeze the mapping (reusing the latest version when nothing changed
    since it and it froze the same entities) and request the gate's review of it."""
    policy.check(acting_user, engagement, Action.SUBMIT_FOR_REVIEW)
    entities = _check_entities(engagement, entities)
    latest = selectors.latest_version(engagement=engagement)
    snapshot = spec_snapshot(engagement=engagement, entities=entities or None)
    if (
        latest is not None
        and latest.entities == entities
        and latest.content_hash == content_hash(snapshot)
    ):
        version = latest
    else:
        version = do_submit_version(
            engagement=engagement, acting_user=acting_user, entities=entities, note=message
        )
    return do_request_review(version=version, gate=gate, acting_user=acting_user, message=message)


# --- review moves -----------------------------------------------------------------------------


def _locked_review(review: ReviewRequest) -> ReviewRequest:
    _lock_for_write(ReviewRequest._meta.db_table, review.pk)
    return (
        ReviewRequest.objects.select_for_update(of=("self",))
        .select_related("engagement", "version", "superseded_by__version")
        .get(pk=review.pk)
    )


def _refuse_closed(review: ReviewRequest) -> None:
    number = review.version.number
    if review.state == ReviewState.APPROVED:
        raise ValidationError(
            f"Version {number} is already approved for the {review.get_gate_display()}."
        )
    if review.state == ReviewState.CHANGES_REQUESTED:
        raise ValidationError(f"Version {number} was already sent back for changes.")
    if review.state == ReviewState.CANCELLED:
        superseded_by = review.superseded_by
        if superseded_by is not None:
            raise ValidationError(
                f"Version {number} was superseded by version "
                f"{superseded_by.version.number}; decide on the newer version."
            )
        raise ValidationError("This review was cancelled.")


@transaction.atomic
def do_start_review(*, review: ReviewRequest, acting_user: User) -> ReviewRequest:
    """The approver opens the review: requested → in review."""
    review = _locked_review(review)
    check_may_decide(review=review, acting_user=acting_user)
    _refuse_closed(review)
    _move_review(review, ReviewState.IN_REVIEW, actor=acting_user, kind=AuditKind.REVIEW_STARTED)
    return review


@transaction.atomic
def do_decide(
    *, review: ReviewRequest, verdict: str, comment: str = "", acting_user: User
) -> Decision:
    """Approve or reject `review`, bound to its exact version and content hash.

    Refused (nothing changed): a Viewer, anyone but the gate's owner (or decider role), the
    submitter, a review already decided or cancelled, a superseded version, a rejection without
    a comment, a UAT sign-off while UAT items are open.
    """
    review = _locked_review(review)
    engagement = review.engagement
    check_may_decide(review=review, acting_user=acting_user)
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": f"Unknown decision '{verdict}': approve or reject."})
    comment = (comment or "").strip()
    if verdict == Verdict.REJECT and not comment:
        raise ValidationError({"comment": "Say what needs to change: a rejection needs a comment."})
    _refuse_closed(review)
    newer = selectors.superseding_version(review.version)
    if newer is not None:
        raise ValidationError(
            f"Version {review.version.number} was superseded by version {newer.number}; "
            "decide on the newer version."
        )
    if verdict == Verdict.APPROVE and review.gate == Gate.UAT:
        open_items = list(
            selectors.open_uat_items(engagement=engagement).values_list("pk", flat=True)
        )
        if open_items:
            raise ValidationError(
                f"UAT sign-off is refused while {len(open_items)} UAT "
                f"item{'s are' if len(open_items) != 1 else ' is'} open: "
                f"{', '.join(f'#{pk}' for pk in open_items)}."
            )
    decision = Decision(
        engagement=engagement,
        review=review,
        gate=review.gate,
        version=review.version,
        content_hash=review.version.content_hash,
        verdict=verdict,
        comment=comment,
        decided_by=acting_user,
        role=policy.role_of(acting_user, engagement) or "",
    )
    save_with_history(decision, acting_user=acting_user)
    approved = verdict == Verdict.APPROVE
    _move_review(
        review,
        VERDICT_STATE[Verdict(verdict)],
        actor=acting_user,
        kind=AuditKind.REVIEW_APPROVED if approved else AuditKind.REVIEW_REJECTED,
        message=comment,
    )
    gate = Gate(review.gate)
    workbench_services.notify(
        [review.requested_by, review.version.created_by],
        engagement=engagement,
        kind=NotificationKind.REVIEW_DECIDED,
        subject=f"{gate.label}: version {review.version.number} "
        f"{'approved' if approved else 'sent back for changes'} by {_name(acting_user)}",
        body=comment,
        url=_url("signoff-review", engagement, review.pk),
        actor=acting_user,
    )
    if approved and gate == Gate.CUTOVER:
        _go_live_if_ready(engagement, acting_user)
    return decision


@transaction.atomic
def do_cancel_review(
    *, review: ReviewRequest, acting_user: User, reason: str = ""
) -> ReviewRequest:
    """The requester (or an Implementation Lead) withdraws an open review."""
    review = _locked_review(review)
    engagement = review.engagement
    policy.check(acting_user, engagement, Action.SUBMIT_FOR_REVIEW)
    is_lead = policy.role_of(acting_user, engagement) == Role.IMPLEMENTATION_LEAD
    if review.requested_by_id != acting_user.pk and not is_lead:
        raise PermissionDenied("Only the requester or an Implementation Lead cancels a review.")
    _refuse_closed(review)
    _move_review(
        review,
        ReviewState.CANCELLED,
        actor=acting_user,
        kind=AuditKind.REVIEW_CANCELLED,
        message=reason.strip(),
    )
    workbench_services.notify(
        gate_deciders(engagement, review.gate),
        engagement=engagement,
        kind=NotificationKind.REVIEW_INVALIDATED,
        subject=f"{review.get_gate_display()}: the review of version {review.version.number} "
        "was cancelled",
        body=reason.strip(),
        url=_url("signoff-review", engagement, review.pk),
        actor=acting_user,
    )
    return review
