"""Choices of signoff and the allowed moves between states (states as data, STYLE rule 3).

Every state field here moves only through one guarded function in signoff.services, which looks
its move up in the dicts below and refuses anything else with a clear message.
"""

from django.db import models

# The gates, the cutover steps and the notification kinds are the core's vocabulary (who decides
# a gate and who ticks a step live in workbench.policy); they stay importable from here.
from workbench.choices import CutoverStep, NotificationKind
from workbench.choices import ReviewGate as Gate

__all__ = [
    "AuditKind",
    "CutoverStep",
    "Gate",
    "NotificationKind",
    "OPEN_REVIEW_STATES",
    "REVIEW_MOVES",
    "ReviewState",
    "UAT_MOVES",
    "UatClassification",
    "UatState",
    "VERDICT_STATE",
    "CUTOVER_NEEDS_LINK",
    "Verdict",
]


class ReviewState(models.TextChoices):
    REQUESTED = "requested", "Requested"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    CANCELLED = "cancelled", "Cancelled"


REVIEW_MOVES: dict[str, set[str]] = {
    ReviewState.REQUESTED: {
        ReviewState.IN_REVIEW,
        ReviewState.APPROVED,
        ReviewState.CHANGES_REQUESTED,
        ReviewState.CANCELLED,
    },
    ReviewState.IN_REVIEW: {
        ReviewState.APPROVED,
        ReviewState.CHANGES_REQUESTED,
        ReviewState.CANCELLED,
    },
    ReviewState.APPROVED: set(),
    ReviewState.CHANGES_REQUESTED: set(),
    ReviewState.CANCELLED: set(),
}
OPEN_REVIEW_STATES = [ReviewState.REQUESTED, ReviewState.IN_REVIEW]


class Verdict(models.TextChoices):
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Changes requested"


VERDICT_STATE = {
    Verdict.APPROVE: ReviewState.APPROVED,
    Verdict.REJECT: ReviewState.CHANGES_REQUESTED,
}


class UatClassification(models.TextChoices):
    MAPPING_CHANGE = "mapping_change", "Mapping change"
    ETL_FIX = "etl_fix", "ETL fix"


class UatState(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


UAT_MOVES: dict[str, set[str]] = {
    UatState.OPEN: {UatState.RESOLVED},
    UatState.RESOLVED: {UatState.OPEN},
}


# The first full run needs a link to the run and its result.
CUTOVER_NEEDS_LINK = {CutoverStep.FIRST_RUN_VALIDATED}


class AuditKind(models.TextChoices):
    """Typed log actions (like Wagtail's log_actions): every decision and state change."""

    VERSION_SUBMITTED = "version_submitted", "Version submitted"
    REVIEW_REQUESTED = "review_requested", "Review requested"
    REVIEW_STARTED = "review_started", "Review started"
    REVIEW_APPROVED = "review_approved", "Approved"
    REVIEW_REJECTED = "review_rejected", "Changes requested"
    REVIEW_CANCELLED = "review_cancelled", "Review cancelled"
    REVIEW_SUPERSEDED = "review_superseded", "Review superseded"
    UAT_RAISED = "uat_raised", "UAT item raised"
    UAT_RESOLVED = "uat_resolved", "UAT item resolved"
    UAT_REOPENED = "uat_reopened", "UAT item reopened"
    CUTOVER_TICKED = "cutover_ticked", "Cutover step ticked"
    CUTOVER_UNTICKED = "cutover_unticked", "Cutover step unticked"
    IN_PRODUCTION = "in_production", "Engagement in production"
