"""States of the source-understanding outputs (phase 2), shown on the dashboard."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse

from workbench.phases import (
    OutputState,
    OutputStatus,
    by_engagement,
    phase_output,
    phase_statuses,
)

from .models import CatalogTable, ColumnProfile, ImpactedEntity


def _url(name: str, engagement) -> str:
    return reverse(name, args=[engagement.slug])


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@phase_output("catalog")
def catalog_state(engagement) -> OutputState:
    tables = CatalogTable.objects.filter(engagement=engagement).count()
    if not tables:
        return OutputState(
            OutputStatus.NOT_STARTED, "no source cataloged", _url("source-list", engagement)
        )
    return OutputState(
        OutputStatus.DONE, f"{_plural(tables, 'table')} cataloged", _url("catalog", engagement)
    )


@phase_output("profiles")
def profiles_state(engagement) -> OutputState:
    counts = CatalogTable.objects.filter(engagement=engagement).aggregate(
        total=Count("pk"), profiled=Count("pk", filter=Q(profiled_at__isnull=False))
    )
    if not counts["profiled"]:
        return OutputState(
            OutputStatus.NOT_STARTED, "not profiled", _url("source-list", engagement)
        )
    status = (
        OutputStatus.DONE if counts["profiled"] == counts["total"] else OutputStatus.IN_PROGRESS
    )
    columns = ColumnProfile.objects.filter(engagement=engagement).count()
    return OutputState(
        status,
        f"{counts['profiled']} of {_plural(counts['total'], 'table')} profiled, {columns} columns",
        _url("catalog", engagement),
    )


@phase_output("source_notes")
def source_notes_state(engagement) -> OutputState:
    counts = CatalogTable.objects.filter(engagement=engagement).aggregate(
        total=Count("pk"), described=Count("pk", filter=~Q(grain="") & ~Q(subject_area=""))
    )
    if not counts["described"]:
        return OutputState(
            OutputStatus.NOT_STARTED, "no notes yet", _url("source-notes", engagement)
        )
    status = (
        OutputStatus.DONE if counts["described"] == counts["total"] else OutputStatus.IN_PROGRESS
    )
    return OutputState(
        status,
        f"{counts['described']} of {_plural(counts['total'], 'table')} with subject area and grain",
        _url("source-notes", engagement),
    )


@phase_output("impacted_entities")
def impacted_entities_state(engagement) -> OutputState:
    names = set(
        ImpactedEntity.objects.filter(engagement=engagement).values_list("entity_name", flat=True)
    )
    if not names:
        return OutputState(
            OutputStatus.NOT_STARTED, "none drafted", _url("source-notes", engagement)
        )
    return OutputState(
        OutputStatus.IN_PROGRESS if len(names) < 2 else OutputStatus.DONE,
        f"{_plural(len(names), 'interface entity')} linked".replace("entitys", "entities"),
        _url("source-notes", engagement),
    )


# --- the same statuses for many engagements at once (the engagement list) ----------------------


def _table_counts(engagements) -> dict[int, dict]:
    rows = (
        CatalogTable.objects.filter(engagement__in=engagements)
        .values("engagement_id")
        .annotate(
            total=Count("pk"),
            profiled=Count("pk", filter=Q(profiled_at__isnull=False)),
            described=Count("pk", filter=~Q(grain="") & ~Q(subject_area="")),
        )
    )
    return {row["engagement_id"]: row for row in rows}


def _share(done: int, total: int) -> OutputStatus:
    if not done:
        return OutputStatus.NOT_STARTED
    return OutputStatus.DONE if done == total else OutputStatus.IN_PROGRESS


@phase_statuses("catalog")
def catalog_statuses(engagements) -> dict[int, OutputStatus]:
    counts = _table_counts(engagements)
    return {e.pk: _share(int(e.pk in counts), 1) for e in engagements}


@phase_statuses("profiles")
def profiles_statuses(engagements) -> dict[int, OutputStatus]:
    counts = _table_counts(engagements)
    empty = {"profiled": 0, "total": 0}
    return {
        e.pk: _share(counts.get(e.pk, empty)["profiled"], counts.get(e.pk, empty)["total"])
        for e in engagements
    }


@phase_statuses("source_notes")
def source_notes_statuses(engagements) -> dict[int, OutputStatus]:
    counts = _table_counts(engagements)
    empty = {"described": 0, "total": 0}
    return {
        e.pk: _share(counts.get(e.pk, empty)["described"], counts.get(e.pk, empty)["total"])
        for e in engagements
    }


@phase_statuses("impacted_entities")
def impacted_entities_statuses(engagements) -> dict[int, OutputStatus]:
    rows = ImpactedEntity.objects.filter(engagement__in=engagements).values_list(
        "engagement_id", "entity_name"
    )
    names = {pk: len(set(values)) for pk, values in by_engagement(rows).items()}
    return {
        e.pk: OutputStatus.NOT_STARTED
        if not names.get(e.pk)
        else OutputStatus.IN_PROGRESS
        if names[e.pk] < 2
        else OutputStatus.DONE
        for e in engagements
    }
