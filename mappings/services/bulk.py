"""One action on many attribute mappings at once (the grid's bulk actions).

Each row goes through the same service a single edit uses (so validation, history and the policy
hold), all rows inside one transaction: when any row is refused, nothing is saved and the caller
learns, row by row, what would have happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from workbench import policy
from workbench.models import Engagement
from workbench.policy import Action

from ..models import AttributeMapping
from ..selectors.suggestions import attribute_suggestions
from . import mapping as services
from .mapping import MappingConflict

MAX_BULK_ROWS = 500  # a whole entity of the largest contracts seen, in one request


class BulkAction(StrEnum):
    ACCEPT_SUGGESTION = "accept_suggestion"
    SET_STATUS = "set_status"
    SET_FEASIBILITY = "set_feasibility"
    SET_SME_REVIEW = "set_sme_review"


# What each bulk action needs of the policy (the same right as the single-row action).
BULK_PERMISSION: dict[BulkAction, Action] = {
    BulkAction.ACCEPT_SUGGESTION: Action.EDIT_MAPPING,
    BulkAction.SET_STATUS: Action.EDIT_MAPPING,
    BulkAction.SET_FEASIBILITY: Action.GIVE_FEASIBILITY,
    BulkAction.SET_SME_REVIEW: Action.REVIEW_MAPPING,
}


class Outcome(StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"  # already so
    SKIPPED = "skipped"  # nothing to do for this row (e.g. no suggestion)
    REFUSED = "refused"  # the service said no: the whole request is rolled back


@dataclass
class RowResult:
    id: int
    attribute: str
    outcome: Outcome
    message: str = ""

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "attribute": self.attribute,
            "outcome": self.outcome.value,
            "message": self.message,
        }


class BulkRefused(Exception):
    """At least one row was refused; nothing was saved. `results` says which and why."""

    def __init__(self, results: list[RowResult]):
        self.results = results
        refused = [r for r in results if r.outcome == Outcome.REFUSED]
        super().__init__(f"{len(refused)} of {len(results)} rows were refused; nothing was saved.")


def _messages(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return " ".join(f"{f}: {m}" for f, ms in exc.message_dict.items() for m in ms)
        return " ".join(exc.messages)
    return str(exc)


def _accept_suggestion(mapping: AttributeMapping, acting_user: User, **_) -> RowResult:
    if mapping.rule:
        return RowResult(mapping.pk, mapping.attribute_name, Outcome.SKIPPED, "It has a rule.")
    suggestions = (s.as_dict() for s in attribute_suggestions(attribute_mapping=mapping, limit=5))
    usable = [s for s in suggestions if s["alias"]]  # a column of a table the entity reads
    if not usable:
        return RowResult(
            mapping.pk,
            mapping.attribute_name,
            Outcome.SKIPPED,
            "No suggested column in the entity's tables.",
        )
    reference = usable[0]["reference"]
    services.attribute_mapping_update(
        attribute_mapping=mapping, data={"source_columns": reference}, acting_user=acting_user
    )
    return RowResult(mapping.pk, mapping.attribute_name, Outcome.CHANGED, reference)


def _set_status(mapping: AttributeMapping, acting_user: User, value: str, **_) -> RowResult:
    if mapping.status == value:
        return RowResult(mapping.pk, mapping.attribute_name, Outcome.UNCHANGED)
    services.attribute_mapping_update(
        attribute_mapping=mapping, data={"status": value}, acting_user=acting_user
    )
    return RowResult(mapping.pk, mapping.attribute_name, Outcome.CHANGED)


def _set_feasibility(
    mapping: AttributeMapping, acting_user: User, value: str, comment: str
) -> RowResult:
    if (mapping.feasibility, mapping.feasibility_comment) == (value, comment.strip()):
        return RowResult(mapping.pk, mapping.attribute_name, Outcome.UNCHANGED)
    services.feasibility_set(
        mapping=mapping, verdict=value, comment=comment, acting_user=acting_user
    )
    return RowResult(mapping.pk, mapping.attribute_name, Outcome.CHANGED)


def _set_sme_review(
    mapping: AttributeMapping, acting_user: User, value: str, comment: str
) -> RowResult:
    if mapping.sme_review == value and not comment.strip():
        return RowResult(mapping.pk, mapping.attribute_name, Outcome.UNCHANGED)
    services.sme_review_set(
        attribute_mapping=mapping, state=value, comment=comment, acting_user=acting_user
    )
    return RowResult(mapping.pk, mapping.attribute_name, Outcome.CHANGED)


_APPLY: dict[BulkAction, Callable[..., RowResult]] = {
    BulkAction.ACCEPT_SUGGESTION: _accept_suggestion,
    BulkAction.SET_STATUS: _set_status,
    BulkAction.SET_FEASIBILITY: _set_feasibility,
    BulkAction.SET_SME_REVIEW: _set_sme_review,
}


@transaction.atomic
def attribute_mappings_bulk(
    *,
    engagement: Engagement,
    mappings: list[AttributeMapping],
    action: BulkAction,
    acting_user: User,
    value: str = "",
    comment: str = "",
) -> list[RowResult]:
    """Apply `action` to every row of `mappings` (all of `engagement`), all or nothing.

    Raises PermissionDenied before touching a row when the role lacks the right, and BulkRefused
    (after rolling back every row) when any row is refused.
    """
    policy.check(acting_user, engagement, BULK_PERMISSION[action])
    if len(mappings) > MAX_BULK_ROWS:
        raise ValidationError(f"At most {MAX_BULK_ROWS} rows at once.")
    if any(m.engagement_id != engagement.pk for m in mappings):
        raise ValidationError("Every row must belong to this engagement.")
    apply = _APPLY[action]
    results = []
    for mapping in mappings:
        try:
            with transaction.atomic():  # a refused row leaves the transaction usable
                results.append(apply(mapping, acting_user, value=value, comment=comment))
        except (ValidationError, MappingConflict) as exc:
            results.append(
                RowResult(mapping.pk, mapping.attribute_name, Outcome.REFUSED, _messages(exc))
            )
    if any(r.outcome == Outcome.REFUSED for r in results):
        raise BulkRefused(results)
    return results
