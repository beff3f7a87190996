"""The production cutover checklist: tick and untick steps (who ticks which is workbench.policy);
the tick that completes it, with the cutover gate approved, puts the engagement in production.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from workbench import policy
from workbench import services as workbench_services
from workbench.choices import EngagementStatus
from workbench.history import save_with_history
from workbench.models import Engagement

from ..choices import CUTOVER_NEEDS_LINK, AuditKind, CutoverStep, Gate, ReviewState, Verdict
from ..models import CutoverItem, Decision
from ._common import _audit, _name


def _cutover_item(engagement: Engagement, step: str) -> CutoverItem:
    if step not in CutoverStep.values:
        raise ValidationError({"step": f"Unknown cutover step '{step}'."})
    item = CutoverItem.objects.select_for_update().filter(engagement=engagement, step=step).first()
    return item or CutoverItem(engagement=engagement, step=step)


def _check_tick_role(engagement: Engagement, step: str, acting_user: User) -> None:
    policy.check_tick_cutover(acting_user, engagement, step)
    if engagement.status == EngagementStatus.IN_PRODUCTION:
        raise ValidationError("The engagement is in production: the cutover checklist is closed.")


@transaction.atomic
def do_tick_cutover(
    *, engagement: Engagement, step: str, acting_user: User, link: str = "", note: str = ""
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
def do_untick_cutover(*, engagement: Engagement, step: str, acting_user: User) -> CutoverItem:
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


def _go_live_if_ready(engagement: Engagement, acting_user: User) -> bool:
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
