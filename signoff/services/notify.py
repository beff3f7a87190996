"""Telling people: approvers once their approved mapping changed (on commit, through
mappings.events), and the inbox names that now live in the core.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from workbench import services as workbench_services
from workbench.choices import NotificationKind
from workbench.history import save_with_history
from workbench.models import Engagement, Notification

from .. import selectors
from ..choices import ReviewState, Verdict
from ..models import Decision
from ._common import _url


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
        .defer("version__snapshot")
    )
    if not pending:
        return 0
    changed = selectors.changed_decisions(engagement=engagement, decisions=pending)
    count = 0
    for decision in pending:
        if decision.pk not in changed:
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
