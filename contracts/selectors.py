"""Reads of contracts that are more than a one-liner (keyword-only, typed)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q

from workbench.models import Engagement

from .choices import LayerStatus
from .models import (
    InterfaceAttribute,
    InterfaceEntity,
    InterfaceLayer,
    InterfaceNote,
    InterfaceRelationship,
)


def published_layer(*, engagement: Engagement) -> InterfaceLayer | None:
    """The engagement's published Interface Layer version, or None."""
    return InterfaceLayer.objects.filter(
        engagement=engagement, status=LayerStatus.PUBLISHED
    ).first()


def published_entity_names(*, engagement: Engagement) -> list[str]:
    """Names of the published layer's entities in position order; [] when none is published."""
    return list(
        InterfaceEntity.objects.filter(
            layer__engagement=engagement, layer__status=LayerStatus.PUBLISHED
        )
        .order_by("position")
        .values_list("name", flat=True)
    )


def layer_list(*, engagement: Engagement):
    return (
        InterfaceLayer.objects.filter(engagement=engagement)
        .select_related("imported_by", "published_by")
        .annotate(
            entity_count=Count("entities", distinct=True),
        )
    )


def current_layer(*, engagement: Engagement) -> InterfaceLayer | None:
    """The layer the pages show by default: the published one, else the newest draft."""
    return published_layer(engagement=engagement) or (
        InterfaceLayer.objects.filter(engagement=engagement, status=LayerStatus.DRAFT)
        .order_by("-imported_at", "-pk")
        .first()
    )


def layer_entities(*, layer: InterfaceLayer):
    """Entities with their counts of mandatory and optional attributes and of notes."""
    return (
        InterfaceEntity.objects.filter(layer=layer)
        .annotate(
            attribute_count=Count("attributes"),
            mandatory_count=Count("attributes", filter=Q(attributes__required=True)),
            optional_count=Count("attributes", filter=Q(attributes__required=False)),
            key_count=Count("attributes", filter=Q(attributes__primary_key=True)),
        )
        .order_by("position")
    )


def entity_attributes(*, entity: InterfaceEntity):
    """The entity's attributes in order, each with its outgoing references resolved."""
    return (
        InterfaceAttribute.objects.filter(entity=entity)
        .prefetch_related(
            Prefetch(
                "references",
                queryset=InterfaceRelationship.objects.select_related("to_attribute__entity"),
            ),
            Prefetch(
                "referenced_by",
                queryset=InterfaceRelationship.objects.select_related("from_attribute__entity"),
            ),
        )
        .order_by("position")
    )


def layer_attributes(*, layer: InterfaceLayer, search: str = "", required: bool | None = None):
    """All attributes of a layer in entity then attribute order, optionally filtered."""
    qs = InterfaceAttribute.objects.filter(layer=layer).select_related("entity")
    if required is not None:
        qs = qs.filter(required=required)
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(entity__name__icontains=search)
            | Q(canonical_meaning__icontains=search)
            | Q(description__icontains=search)
            | Q(business_name__icontains=search)
        )
    return qs.order_by("entity__position", "position")


def entity_notes(*, engagement: Engagement, entity_name: str):
    return (
        InterfaceNote.objects.filter(engagement=engagement, entity_name=entity_name)
        .select_related("author")
        .order_by("attribute_name", "created_at", "pk")
    )
