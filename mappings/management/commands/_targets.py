"""What a mapping command acts on, as typed: `entity`, `entity.attribute`, or `entity.*` (every
attribute of the entity)."""

from __future__ import annotations

from django.core.management.base import CommandError

from mappings.models import AttributeMapping, EntityMapping
from workbench.models import Engagement


def mapping_targets(
    engagement: Engagement, target: str, *, entity_allowed: bool
) -> list[EntityMapping | AttributeMapping]:
    """The entity mapping or attribute mappings `target` names; refused with what exists."""
    entity_name, _, attribute_name = target.strip().partition(".")
    entity = EntityMapping.objects.filter(engagement=engagement, entity_name=entity_name).first()
    if entity is None:
        known = ", ".join(
            EntityMapping.objects.filter(engagement=engagement)
            .order_by("entity_name")
            .values_list("entity_name", flat=True)
        )
        raise CommandError(
            f"{engagement.slug} has no mapping of entity '{entity_name}'"
            + (f"; its entities: {known}." if known else "; export or import the workbook first.")
        )
    if not attribute_name:
        if not entity_allowed:
            raise CommandError(
                f"Name an attribute: '{entity_name}.ATTRIBUTE' or '{entity_name}.*'."
            )
        return [entity]
    attributes = entity.attributes.order_by("id")
    if attribute_name == "*":
        return list(attributes)
    found = attributes.filter(attribute_name=attribute_name).first()
    if found is None:
        raise CommandError(f"Entity '{entity_name}' has no attribute '{attribute_name}'.")
    return [found]


def target_label(mapping: EntityMapping | AttributeMapping) -> str:
    if isinstance(mapping, AttributeMapping):
        return f"{mapping.entity_mapping.entity_name}.{mapping.attribute_name}"
    return mapping.entity_name
