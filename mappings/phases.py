"""States of the mapping outputs (phase 3: mappings, feasibility, GAP), shown on the dashboard."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse

from workbench.phases import (
    OutputState,
    OutputStatus,
    phase_output,
    phase_statuses,
    shared_reading,
)

from .choices import Feasibility, MappingStatus
from .models import AttributeMapping
from .selectors.mapping import UNMAPPED_STATES

OPEN = [s.value for s in UNMAPPED_STATES]


@shared_reading  # three outputs below read it: one query per dashboard
def _counts(engagement) -> dict:
    return AttributeMapping.objects.filter(engagement=engagement).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=~Q(status__in=OPEN)),
        assessed=Count("pk", filter=~Q(feasibility=Feasibility.NOT_ASSESSED)),
        not_feasible=Count("pk", filter=Q(feasibility=Feasibility.NOT_FEASIBLE)),
        blocked=Count("pk", filter=Q(status=MappingStatus.BLOCKED)),
    )


@phase_output("mappings")
def mappings_state(engagement) -> OutputState:
    counts = _counts(engagement)
    url = reverse("mapping-overview", args=[engagement.slug])
    if not counts["done"]:
        return OutputState(OutputStatus.NOT_STARTED, "nothing mapped yet", url)
    status = OutputStatus.DONE if counts["done"] == counts["total"] else OutputStatus.IN_PROGRESS
    return OutputState(status, f"{counts['done']} of {counts['total']} attributes mapped", url)


@phase_output("feasibility")
def feasibility_state(engagement) -> OutputState:
    counts = _counts(engagement)
    url = reverse("mapping-overview", args=[engagement.slug])
    if not counts["assessed"]:
        return OutputState(OutputStatus.NOT_STARTED, "no verdict yet", url)
    detail = f"{counts['assessed']} of {counts['total']} assessed"
    if counts["not_feasible"]:
        detail += f", {counts['not_feasible']} not feasible"
    status = (
        OutputStatus.DONE if counts["assessed"] == counts["total"] else OutputStatus.IN_PROGRESS
    )
    return OutputState(status, detail, url)


@phase_output("gap")
def gap_state(engagement) -> OutputState:
    """Cheap on purpose (the dashboard is not the place to run the full GAP analysis)."""
    counts = _counts(engagement)
    url = reverse("mapping-gap", args=[engagement.slug])
    if not counts["total"]:
        return OutputState(OutputStatus.NOT_STARTED, "no mapping yet", url)
    open_rows = counts["total"] - counts["done"] + counts["not_feasible"]
    if open_rows:
        return OutputState(OutputStatus.IN_PROGRESS, f"{open_rows} open attributes", url)
    return OutputState(OutputStatus.DONE, "no open attribute", url)


# --- the same statuses for many engagements at once (the engagement list) ----------------------


def _many_counts(engagements) -> dict[int, dict]:
    rows = (
        AttributeMapping.objects.filter(engagement__in=engagements)
        .values("engagement_id")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=~Q(status__in=OPEN)),
            assessed=Count("pk", filter=~Q(feasibility=Feasibility.NOT_ASSESSED)),
            not_feasible=Count("pk", filter=Q(feasibility=Feasibility.NOT_FEASIBLE)),
        )
    )
    return {row["engagement_id"]: row for row in rows}


_NONE = {"total": 0, "done": 0, "assessed": 0, "not_feasible": 0}


def _share(done: int, total: int) -> OutputStatus:
    if not done:
        return OutputStatus.NOT_STARTED
    return OutputStatus.DONE if done == total else OutputStatus.IN_PROGRESS


@phase_statuses("mappings")
def mappings_statuses(engagements) -> dict[int, OutputStatus]:
    counts = _many_counts(engagements)
    return {
        e.pk: _share(counts.get(e.pk, _NONE)["done"], counts.get(e.pk, _NONE)["total"])
        for e in engagements
    }


@phase_statuses("feasibility")
def feasibility_statuses(engagements) -> dict[int, OutputStatus]:
    counts = _many_counts(engagements)
    return {
        e.pk: _share(counts.get(e.pk, _NONE)["assessed"], counts.get(e.pk, _NONE)["total"])
        for e in engagements
    }


@phase_statuses("gap")
def gap_statuses(engagements) -> dict[int, OutputStatus]:
    result = {}
    counts = _many_counts(engagements)
    for e in engagements:
        c = counts.get(e.pk, _NONE)
        open_rows = c["total"] - c["done"] + c["not_feasible"]
        result[e.pk] = (
            OutputStatus.NOT_STARTED
            if not c["total"]
            else OutputStatus.IN_PROGRESS
            if open_rows
            else OutputStatus.DONE
        )
    return result
