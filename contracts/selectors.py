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
    return (
        InterfaceLayer.objects.filter(engagement=engagement, status=LayerStatus.PUBLISHED)
        .select_related("imported_by", "published_by")
        .first()
    )


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
        .select_related("imported_by", "published_by")
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


def layer_counts(*, layer: InterfaceLayer) -> dict[str, int]:
    """Entities, attributes (mandatory, optional) and relationships of a layer: 3 queries."""
    attributes = InterfaceAttribute.objects.filter(layer=layer).aggregate(
        total=Count("pk"), mandatory=Count("pk", filter=Q(required=True))
    )
    return {
        "entities": InterfaceEntity.objects.filter(layer=layer).count(),
        "attributes": attributes["total"],
        "mandatory": attributes["mandatory"],
        "optional": attributes["total"] - attributes["mandatory"],
        "relationships": InterfaceRelationship.objects.filter(layer=layer).count(),
    }


def note_counts(*, engagement: Engagement) -> dict[str, int]:
    """Number of notes per entity name (entity and attribute notes together)."""
    return dict(
        InterfaceNote.objects.filter(engagement=engagement)
        .values_list("entity_name")
        .annotate(n=Count("pk"))
        .values_list("entity_name", "n")
    )


def diff_base(*, layer: InterfaceLayer) -> InterfaceLayer | None:
    """The version `layer` is compared with: for a draft, the published version; for a
    published or superseded one, the version published before it."""
    if layer.status == LayerStatus.DRAFT:
        return published_layer(engagement=layer.engagement)
    if layer.published_at is None:
        return None
    return (
        InterfaceLayer.objects.filter(
            engagement=layer.engagement_id,
            published_at__lt=layer.published_at,
        )
        .exclude(pk=layer.pk)
        .order_by("-published_at")
        .first()
    )


def layer_erd(*, layer: InterfaceLayer) -> dict:
    """Nodes (entities) and edges (relationships) for the ERD picture: 2 queries."""
    nodes = [
        {
            "id": e.name,
            "label": e.business_name or e.name,
            "attributes": e.attribute_count,
            "mandatory": e.mandatory_count,
            "keys": e.key_count,
        }
        for e in layer_entities(layer=layer)
    ]
    edges = [
        {
            "id": f"r{pk}",
            "source": from_entity,
            "target": to_entity,
            "label": f"{from_attr} → {to_attr}",
        }
        for pk, from_entity, from_attr, to_entity, to_attr in InterfaceRelationship.objects.filter(
            layer=layer
        )
        .internal()
        .order_by("pk")
        .values_list(
            "pk",
            "from_attribute__entity__name",
            "from_attribute__name",
            "to_attribute__entity__name",
            "to_attribute__name",
        )
    ]
    return {"nodes": nodes, "edges": edges}
