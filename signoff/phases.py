"""States of the sign-off outputs on the dashboard: mapping sign-off (phase 3), UAT feedback and
UAT sign-off (phase 5), the cutover checklist (phase 6)."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.urls import reverse

from workbench.models import Engagement
from workbench.phases import (
    OutputState,
    OutputStatus,
    by_engagement,
    phase_output,
    phase_statuses,
)

from . import selectors
from .choices import OPEN_REVIEW_STATES, CutoverStep, Gate, ReviewState, UatState
from .models import CutoverItem, ReviewRequest, UatItem


def _url(name: str, engagement) -> str:
    return reverse(name, args=[engagement.slug])


def _gate_state(engagement, gate: str) -> OutputState:
    url = _url("signoff-overview", engagement)
    review = (
        ReviewRequest.objects.filter(engagement=engagement, gate=gate)
        .exclude(state=ReviewState.CANCELLED)
        .select_related("version")
        .only("state", "version__number")
        .order_by("-requested_at", "-id")
        .first()
    )
    if review is None:
        return OutputState(OutputStatus.NOT_STARTED, "not submitted", url)
    number = review.version.number
    if review.state in OPEN_REVIEW_STATES:
        return OutputState(
            OutputStatus.IN_PROGRESS, f"version {number} {review.get_state_display().lower()}", url
        )
    if review.state == ReviewState.CHANGES_REQUESTED:
        return OutputState(OutputStatus.IN_PROGRESS, f"version {number}: changes requested", url)
    if gate == Gate.MAPPING:
        changed = selectors.changed_since_signoff(
            engagement=engagement, attributes=False, changes=False
        )
        if changed["changed"]:
            names = sorted(n for n, e in changed["entities"].items() if e["changed"])
            return OutputState(
                OutputStatus.IN_PROGRESS,
                f"version {number} approved; changed since sign-off: {', '.join(names)}",
                url,
            )
    return OutputState(OutputStatus.DONE, f"version {number} approved", url)


@phase_output("mapping_signoff")
def mapping_signoff_state(engagement) -> OutputState:
    return _gate_state(engagement, Gate.MAPPING)


@phase_output("uat_signoff")
def uat_signoff_state(engagement) -> OutputState:
    return _gate_state(engagement, Gate.UAT)


@phase_output("uat_feedback")
def uat_feedback_state(engagement) -> OutputState:
    url = _url("signoff-uat", engagement)
    states = list(UatItem.objects.filter(engagement=engagement).values_list("state", flat=True))
    if not states:
        return OutputState(OutputStatus.NOT_STARTED, "no feedback yet", url)
    open_count = states.count(UatState.OPEN)
    if open_count:
        return OutputState(OutputStatus.IN_PROGRESS, f"{open_count} of {len(states)} open", url)
    return OutputState(OutputStatus.DONE, f"{len(states)} resolved", url)


@phase_output("cutover")
def cutover_state(engagement) -> OutputState:
    url = _url("signoff-cutover", engagement)
    ticked = CutoverItem.objects.filter(engagement=engagement, ticked=True).count()
    total = len(CutoverStep)
    if not ticked:
        return OutputState(OutputStatus.NOT_STARTED, f"0 of {total} ticked", url)
    status = OutputStatus.DONE if ticked == total else OutputStatus.IN_PROGRESS
    return OutputState(status, f"{ticked} of {total} ticked", url)


# --- the same statuses for many engagements at once (the engagement list) ----------------------


def _gate_statuses(engagements, gate: str) -> dict[int, OutputStatus]:
    newest = (
        ReviewRequest.objects.filter(engagement=OuterRef("pk"), gate=gate)
        .exclude(state=ReviewState.CANCELLED)
        .order_by("-requested_at", "-id")
    )
    states = dict(
        Engagement.objects.filter(pk__in=[e.pk for e in engagements])
        .annotate(review_state=Subquery(newest.values("state")[:1]))
        .values_list("pk", "review_state")
    )
    result = {}
    for e in engagements:
        state = states.get(e.pk)
        if state is None:
            result[e.pk] = OutputStatus.NOT_STARTED
        elif state != ReviewState.APPROVED:
            result[e.pk] = OutputStatus.IN_PROGRESS
        elif gate == Gate.MAPPING:
            # An approved mapping may have changed since: the dashboard's own check, which costs
            # a few queries for each engagement with an approved mapping sign-off.
            result[e.pk] = _gate_state(e, gate).status
        else:
            result[e.pk] = OutputStatus.DONE
    return result


@phase_statuses("mapping_signoff")
def mapping_signoff_statuses(engagements) -> dict[int, OutputStatus]:
    return _gate_statuses(engagements, Gate.MAPPING)


@phase_statuses("uat_signoff")
def uat_signoff_statuses(engagements) -> dict[int, OutputStatus]:
    return _gate_statuses(engagements, Gate.UAT)


@phase_statuses("uat_feedback")
def uat_feedback_statuses(engagements) -> dict[int, OutputStatus]:
    states = by_engagement(
        UatItem.objects.filter(engagement__in=engagements).values_list("engagement_id", "state")
    )
    return {
        e.pk: OutputStatus.NOT_STARTED
        if not states.get(e.pk)
        else OutputStatus.IN_PROGRESS
        if UatState.OPEN in states[e.pk]
        else OutputStatus.DONE
        for e in engagements
    }


@phase_statuses("cutover")
def cutover_statuses(engagements) -> dict[int, OutputStatus]:
    ticked = {
        pk: len(values)
        for pk, values in by_engagement(
            CutoverItem.objects.filter(engagement__in=engagements, ticked=True).values_list(
                "engagement_id", "pk"
            )
        ).items()
    }
    total = len(CutoverStep)
    return {
        e.pk: OutputStatus.NOT_STARTED
        if not ticked.get(e.pk)
        else OutputStatus.DONE
        if ticked[e.pk] == total
        else OutputStatus.IN_PROGRESS
        for e in engagements
    }
