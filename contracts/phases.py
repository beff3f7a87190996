"""States of the phase-3 interface outputs (the contract and the interface notes), for the dashboard."""

from __future__ import annotations

from django.urls import reverse

from workbench.phases import (
    OutputState,
    OutputStatus,
    by_engagement,
    phase_output,
    phase_statuses,
)

from .choices import LayerStatus
from .models import InterfaceEntity, InterfaceLayer, InterfaceNote
from .selectors import published_entity_names


@phase_output("contract")
def contract_state(engagement) -> OutputState:
    url = reverse("contract-overview", args=[engagement.slug])
    layers = list(
        InterfaceLayer.objects.filter(engagement=engagement).values_list(
            "status", "name", "version"
        )
    )
    published = [(n, v) for s, n, v in layers if s == LayerStatus.PUBLISHED]
    drafts = [v for s, n, v in layers if s == LayerStatus.DRAFT]
    if published:
        name, version = published[0]
        detail = f"{name} {version} published"
        if drafts:
            detail += f"; draft {', '.join(drafts)} awaiting publication"
        return OutputState(OutputStatus.DONE, detail, url)
    if drafts:
        return OutputState(
            OutputStatus.IN_PROGRESS, f"draft {', '.join(drafts)} not published", url
        )
    return OutputState(OutputStatus.NOT_STARTED, "no contract imported", url)


@phase_output("interface_notes")
def interface_notes_state(engagement) -> OutputState:
    """Done when every entity of the published contract has a note (on itself or an attribute)."""
    url = reverse("contract-overview", args=[engagement.slug])
    count = InterfaceNote.objects.filter(engagement=engagement).count()
    if not count:
        return OutputState(OutputStatus.NOT_STARTED, "no notes yet", url)
    notes = f"{count} note{'s' if count != 1 else ''}"
    entities = set(published_entity_names(engagement=engagement))
    if not entities:
        return OutputState(OutputStatus.IN_PROGRESS, f"{notes}; no published contract", url)
    noted = entities & set(
        InterfaceNote.objects.filter(engagement=engagement, entity_name__in=entities)
        .values_list("entity_name", flat=True)
        .distinct()
    )
    if noted == entities:
        return OutputState(OutputStatus.DONE, f"{notes}; every entity noted", url)
    return OutputState(
        OutputStatus.IN_PROGRESS, f"{notes}; {len(noted)} of {len(entities)} entities noted", url
    )


# --- the same statuses for many engagements at once (the engagement list) ----------------------


@phase_statuses("contract")
def contract_statuses(engagements) -> dict[int, OutputStatus]:
    rows = InterfaceLayer.objects.filter(engagement__in=engagements).values_list(
        "engagement_id", "status"
    )
    states = {pk: set(values) for pk, values in by_engagement(rows).items()}
    return {
        e.pk: OutputStatus.DONE
        if LayerStatus.PUBLISHED in states.get(e.pk, set())
        else OutputStatus.IN_PROGRESS
        if LayerStatus.DRAFT in states.get(e.pk, set())
        else OutputStatus.NOT_STARTED
        for e in engagements
    }


@phase_statuses("interface_notes")
def interface_notes_statuses(engagements) -> dict[int, OutputStatus]:
    noted = by_engagement(
        InterfaceNote.objects.filter(engagement__in=engagements).values_list(
            "engagement_id", "entity_name"
        )
    )
    published = by_engagement(
        InterfaceEntity.objects.filter(
            layer__engagement__in=engagements, layer__status=LayerStatus.PUBLISHED
        ).values_list("layer__engagement_id", "name")
    )
    result = {}
    for e in engagements:
        entities = set(published.get(e.pk, []))
        if not noted.get(e.pk):
            result[e.pk] = OutputStatus.NOT_STARTED
        elif entities and entities <= set(noted[e.pk]):
            result[e.pk] = OutputStatus.DONE
        else:
            result[e.pk] = OutputStatus.IN_PROGRESS
    return result
