"""Writes of signoff. Every workflow move is one guarded `do_<verb>` function: keyword-only,
atomic, checking the policy and the gate's rules, moving state only along the dicts of
signoff.choices, writing its AuditEvent row in the same transaction, and sending notifications
through the core's inbox (workbench.services.notify: in-app rows now, e-mail on commit).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mappings.models import EntityMapping
from mappings.snapshot import content_hash, spec_snapshot
from workbench import policy
from workbench import services as workbench_services
from workbench.choices import EngagementStatus, NotificationKind, Role
from workbench.history import save_with_history
from workbench.models import Engagement, Membership, Notification
from workbench.policy import Action

from . import selectors
from .choices import (
    CUTOVER_NEEDS_LINK,
    OPEN_REVIEW_STATES,
    REVIEW_MOVES,
    UAT_MOVES,
    VERDICT_STATE,
    AuditKind,
    CutoverStep,
    Gate,
    ReviewState,
    UatClassification,
    UatState,
    Verdict,
)
from .models import (
    AuditEvent,
    CutoverItem,
    Decision,
    ReviewRequest,
    SpecVersion,
    UatItem,
)

User = get_user_model()


# --- helpers: audit, notifications, locks ----------------------------------------------------------


def _audit(engagement: Engagement, kind: str, actor, **fields) -> AuditEvent:
    event = AuditEvent(engagement=engagement, kind=kind, actor=actor, **fields)
    event.save()
    return event


def _url(name: str, engagement: Engagement, *args) -> str:
    try:
        return reverse(name, args=[engagement.slug, *args])
    except NoReverseMatch:
        return reverse("engagement-dashboard", args=[engagement.slug])


def _name(user) -> str:
    return user.get_full_name() or user.username


def _lock_for_write(table: str, pk: int) -> None:
    """Take the database write lock before reading, so two deciders queue instead of racing.

    PostgreSQL: the caller's select_for_update locks the row. SQLite has no row locks: a no-op
    UPDATE as the transaction's first statement takes SQLite's write lock (waiting for the other
    writer with the busy timeout), so the second decider reads the first one's result.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f'UPDATE "{table}" SET id = id WHERE id = %s', [pk])  # noqa: S608


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


def check_may_decide(*, review: ReviewRequest, acting_user) -> None:
    """Raise PermissionDenied unless `acting_user` may decide `review` (used by pages to hide too):
    the gate's policy, and never on a version they submitted or asked to review themselves."""
    policy.check_decide_gate(acting_user, review.engagement, review.gate)
    if review.version.created_by_id == acting_user.pk or review.requested_by_id == acting_user.pk:
        raise PermissionDenied(
            f"You submitted version {review.version.number}; someone else must decide on it."
        )


# --- spec versions -------------------------------------------------------------------------------


def _check_entities(engagement: Engagement, entities: list[str] | None) -> list[str]:
    entities = sorted({e.strip() for e in (entities or []) if e and e.strip()})
    known = set(
        EntityMapping.objects.filter(engagement=engagement).values_list("entity_name", flat=True)
    )
    if not known:
        raise ValidationError("There is no mapping to submit yet: prepare the mapping first.")
    unknown = [e for e in entities if e not in known]
    if unknown:
        raise ValidationError({"entities": f"Not an entity of the mapping: {', '.join(unknown)}."})
    return entities


@transaction.atomic
def do_submit_version(
    *, engagement: Engagement, acting_user, entities: list[str] | None = None, note: str = ""
) -> SpecVersion:
    """Freeze the current mapping (or the chosen entities) as the next numbered spec version."""
    policy.check(acting_user, engagement, Action.SUBMIT_FOR_REVIEW)
    entities = _check_entities(engagement, entities)
    Engagement.objects.select_for_update().filter(pk=engagement.pk).first()  # numbers in order
    snapshot = spec_snapshot(engagement=engagement, entities=entities or None)
    latest = selectors.latest_version(engagement=engagement)
    contract = snapshot["contract"] or {}
    version = SpecVersion(
        engagement=engagement,
        number=(latest.number + 1) if latest else 1,
        entities=entities,
        snapshot=snapshot,
        content_hash=content_hash(snapshot),
        contract_name=contract.get("name", ""),
        contract_version=contract.get("version", ""),
        note=note.strip(),
        created_by=acting_user,
    )
    save_with_history(version, acting_user=acting_user)
    _audit(
        engagement,
        AuditKind.VERSION_SUBMITTED,
        acting_user,
        version=version,
        content_hash=version.content_hash,
        message=f"Version {version.number} ({version.scope_label}), hash {version.short_hash}.",
    )
    return version


@transaction.atomic
def do_request_review(
    *, version: SpecVersion, gate: str, acting_user, message: str = ""
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
    acting_user,
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
        if review.superseded_by_id:
            raise ValidationError(
                f"Version {number} was superseded by version "
                f"{review.superseded_by.version.number}; decide on the newer version."
            )
        raise ValidationError("This review was cancelled.")


@transaction.atomic
def do_start_review(*, review: ReviewRequest, acting_user) -> ReviewRequest:
    """The approver opens the review: requested → in review."""
    review = _locked_review(review)
    check_may_decide(review=review, acting_user=acting_user)
    _refuse_closed(review)
    _move_review(review, ReviewState.IN_REVIEW, actor=acting_user, kind=AuditKind.REVIEW_STARTED)
    return review


@transaction.atomic
def do_decide(*, review: ReviewRequest, verdict: str, comment: str = "", acting_user) -> Decision:
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
def do_cancel_review(*, review: ReviewRequest, acting_user, reason: str = "") -> ReviewRequest:
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


# --- changed since sign-off: tell the approvers once ---------------------------------------------


@transaction.atomic
def do_notify_changed_since(*, engagement: Engagement) -> int:
    """Tell the approver and the requester, once per approval, that the approved part of the
    spec changed since the sign-off. Called on commit after a mapping change (mappings.events).
    Returns how many approvals were newly found changed."""
    pending = list(
        Decision.objects.select_for_update(of=("self",))
        .filter(
            engagement=engagement,
            verdict=Verdict.APPROVE,
            review__state=ReviewState.APPROVED,
            invalidation_notified_at__isnull=True,
        )
        .select_related("version", "decided_by", "review__requested_by")
    )
    if not pending:
        return 0
    current = spec_snapshot(engagement=engagement)
    count = 0
    for decision in pending:
        if not selectors.decision_changed(decision, current):
            continue
        count += 1
        decision.invalidation_notified_at = timezone.now()
        save_with_history(decision, acting_user=None)
        workbench_services.notify(
            [decision.decided_by, decision.review.requested_by],
            engagement=engagement,
            kind=NotificationKind.REVIEW_INVALIDATED,
            subject=f"{decision.get_gate_display()} of version {decision.version.number}: "
            "the mapping changed since sign-off",
            body="The approved mapping was edited after the sign-off; a new version needs "
            "approval.",
            url=_url("signoff-version", engagement, decision.version.number),
            actor=None,
        )
    return count


def tell_approvers_of_change(*, engagement: Engagement, entities: frozenset[str]) -> None:
    """The mappings.events handler: the whole spec is compared (an approval may cover any of
    `entities`), so the entities named only say that something changed."""
    do_notify_changed_since(engagement=engagement)


# --- the inbox: the core's (workbench.services); these names stay importable from here ---------

do_mark_read = workbench_services.notification_mark_read
do_mark_all_read = workbench_services.notification_mark_all_read


def notify_mentions(comment) -> list[Notification]:
    """Notify the members a mapping comment mentions: the mapping comment service does it itself
    now (mappings.services.mapping.comment_mentions_notify); kept for callers of this name."""
    from mappings.services.mapping import comment_mentions_notify

    return comment_mentions_notify(comment=comment)


# --- UAT feedback ---------------------------------------------------------------------------------

UAT_FIELDS = {"entity_name", "attribute_name", "test_result_ref", "classification", "description"}


@transaction.atomic
def do_raise_uat_item(*, engagement: Engagement, data: dict, acting_user) -> UatItem:
    """Capture one UAT feedback item on an entity (or attribute) of the mapping."""
    policy.check(acting_user, engagement, Action.RAISE_UAT_FEEDBACK)
    unknown = set(data) - UAT_FIELDS - {"owner"}
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    entity_name = (data.get("entity_name") or "").strip()
    attribute_name = (data.get("attribute_name") or "").strip()
    entity = EntityMapping.objects.filter(engagement=engagement, entity_name=entity_name).first()
    if entity is None:
        raise ValidationError({"entity_name": f"'{entity_name}' is not an entity of the mapping."})
    if attribute_name and not entity.attributes.filter(attribute_name=attribute_name).exists():
        raise ValidationError(
            {"attribute_name": f"'{attribute_name}' is not an attribute of {entity_name}."}
        )
    if data.get("classification") not in UatClassification.values:
        raise ValidationError({"classification": "Choose Mapping change or ETL fix."})
    owner = _member(engagement, data.get("owner"), "owner")
    item = UatItem(
        engagement=engagement,
        entity_name=entity_name,
        attribute_name=attribute_name,
        test_result_ref=str(data.get("test_result_ref") or "").strip(),
        classification=data["classification"],
        description=(data.get("description") or "").strip(),
        owner=owner,
        raised_by=acting_user,
    )
    save_with_history(item, acting_user=acting_user)
    _audit(
        engagement,
        AuditKind.UAT_RAISED,
        acting_user,
        gate=Gate.UAT,
        to_state=item.state,
        message=f"#{item.pk} {item.target} ({item.get_classification_display()}): "
        f"{item.description[:200]}",
    )
    return item


def _member(engagement: Engagement, username, field: str):
    if not username:
        return None
    if isinstance(username, User):
        username = username.username
    membership = (
        Membership.objects.filter(engagement=engagement, user__username=username)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ValidationError({field: f"'{username}' is not a member of this engagement."})
    return membership.user


def _move_uat(item: UatItem, to_state: str, acting_user, kind: str, message: str) -> None:
    from_state = item.state
    if to_state not in UAT_MOVES[from_state]:
        raise ValidationError(
            f"UAT item #{item.pk} is already {UatState(from_state).label.lower()}."
        )
    item.state = to_state
    save_with_history(item, acting_user=acting_user)
    _audit(
        item.engagement,
        kind,
        acting_user,
        gate=Gate.UAT,
        from_state=from_state,
        to_state=to_state,
        message=f"#{item.pk} {item.target}: {message}".strip(": "),
    )


@transaction.atomic
def do_resolve_uat_item(*, item: UatItem, resolution: str, acting_user) -> UatItem:
    """Close a UAT item with how it was resolved: its owner, or who may raise UAT feedback."""
    item = UatItem.objects.select_for_update().get(pk=item.pk)
    engagement = item.engagement
    policy.check(acting_user, engagement, Action.VIEW)
    if item.owner_id != acting_user.pk and not policy.can(
        acting_user, engagement, Action.RAISE_UAT_FEEDBACK
    ):
        raise PermissionDenied("Only the item's owner, a Tech BA or a Client SME resolves it.")
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": "Say how the item was resolved."})
    item.resolution = resolution
    item.resolved_by = acting_user
    item.resolved_at = timezone.now()
    _move_uat(item, UatState.RESOLVED, acting_user, AuditKind.UAT_RESOLVED, resolution)
    return item


@transaction.atomic
def do_reopen_uat_item(*, item: UatItem, acting_user, reason: str = "") -> UatItem:
    item = UatItem.objects.select_for_update().get(pk=item.pk)
    policy.check(acting_user, item.engagement, Action.RAISE_UAT_FEEDBACK)
    item.resolved_by = None
    item.resolved_at = None
    _move_uat(item, UatState.OPEN, acting_user, AuditKind.UAT_REOPENED, reason.strip())
    return item


# --- cutover ------------------------------------------------------------------------------------


def _cutover_item(engagement: Engagement, step: str) -> CutoverItem:
    if step not in CutoverStep.values:
        raise ValidationError({"step": f"Unknown cutover step '{step}'."})
    item = CutoverItem.objects.select_for_update().filter(engagement=engagement, step=step).first()
    return item or CutoverItem(engagement=engagement, step=step)


def _check_tick_role(engagement: Engagement, step: str, acting_user) -> None:
    policy.check_tick_cutover(acting_user, engagement, step)
    if engagement.status == EngagementStatus.IN_PRODUCTION:
        raise ValidationError("The engagement is in production: the cutover checklist is closed.")


@transaction.atomic
def do_tick_cutover(
    *, engagement: Engagement, step: str, acting_user, link: str = "", note: str = ""
) -> CutoverItem:
    """Tick one cutover step (by its allowed role, with who and when); the tick that completes
    the checklist moves the engagement to "in production" once the cutover gate is approved."""
    item = _cutover_item(engagement, step)
    _check_tick_role(engagement, step, acting_user)
    if item.ticked:
        raise ValidationError(
            f"'{item.get_step_display()}' was already ticked by {_name(item.ticked_by)}."
        )
    link = (link or "").strip()
    if step in CUTOVER_NEEDS_LINK and not link:
        raise ValidationError({"link": "Link the validated run and its result."})
    item.ticked, item.ticked_by, item.ticked_at = True, acting_user, timezone.now()
    item.link, item.note = link, (note or "").strip()
    save_with_history(item, acting_user=acting_user)
    _audit(
        engagement,
        AuditKind.CUTOVER_TICKED,
        acting_user,
        gate=Gate.CUTOVER,
        from_state="open",
        to_state="ticked",
        message=f"{item.get_step_display()}{f' — {link}' if link else ''}",
    )
    _go_live_if_ready(engagement, acting_user)
    return item


@transaction.atomic
def do_untick_cutover(*, engagement: Engagement, step: str, acting_user) -> CutoverItem:
    item = _cutover_item(engagement, step)
    _check_tick_role(engagement, step, acting_user)
    if not item.ticked:
        raise ValidationError(f"'{item.get_step_display()}' is not ticked.")
    item.ticked, item.ticked_by, item.ticked_at = False, None, None
    save_with_history(item, acting_user=acting_user)
    _audit(
        engagement,
        AuditKind.CUTOVER_UNTICKED,
        acting_user,
        gate=Gate.CUTOVER,
        from_state="ticked",
        to_state="open",
        message=item.get_step_display(),
    )
    return item


def _go_live_if_ready(engagement: Engagement, acting_user) -> bool:
    """All steps ticked and the cutover gate approved → in production.

    The move goes through workbench.services.engagement_set_status as the Implementation Lead
    who approved the cutover gate (their approval is the authority to go live); the audit row
    names who completed it.
    """
    engagement.refresh_from_db(fields=["status"])
    if engagement.status == EngagementStatus.IN_PRODUCTION:
        return False
    ticked = CutoverItem.objects.filter(engagement=engagement, ticked=True).count()
    if ticked < len(CutoverStep):
        return False
    approval = (
        Decision.objects.filter(
            engagement=engagement,
            gate=Gate.CUTOVER,
            verdict=Verdict.APPROVE,
            review__state=ReviewState.APPROVED,
        )
        .select_related("decided_by")
        .order_by("-decided_at", "-id")
        .first()
    )
    if approval is None:
        return False
    workbench_services.engagement_set_status(
        engagement=engagement,
        status=EngagementStatus.IN_PRODUCTION,
        acting_user=approval.decided_by,
    )
    _audit(
        engagement,
        AuditKind.IN_PRODUCTION,
        acting_user,
        gate=Gate.CUTOVER,
        from_state=EngagementStatus.ACTIVE,
        to_state=EngagementStatus.IN_PRODUCTION,
        message=f"Cutover complete; live on the authority of {_name(approval.decided_by)}'s "
        "cutover approval.",
    )
    return True
