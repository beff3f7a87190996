"""States of the sign-off outputs on the dashboard: mapping sign-off (phase 3), UAT feedback and
UAT sign-off (phase 5), the cutover checklist (phase 6)."""

from __future__ import annotations

from django.urls import reverse

from workbench.phases import OutputState, OutputStatus, phase_output

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
