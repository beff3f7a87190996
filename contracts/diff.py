"""The difference between two versions of a contract: entities, attributes and relationships
added, removed and changed, with the fields that changed (old and new values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import InterfaceAttribute, InterfaceEntity, InterfaceLayer, InterfaceRelationship

ENTITY_FIELDS = ["physical_name", "business_name", "description", "grain"]
ATTRIBUTE_FIELDS = [
    "logical_type",
    "physical_type",
    "required",
    "primary_key",
    "primary_key_position",
    "unique",
    "allowed_values",
    "max_length",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "canonical_meaning",
    "description",
    "business_name",
    "physical_name",
    "classification",
    "examples",
]


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any

    @property
    def label(self) -> str:
        return self.field.replace("_", " ")


@dataclass
class EntityChange:
    entity: str
    changes: list[FieldChange]


@dataclass
class AttributeChange:
    entity: str
    attribute: str
    changes: list[FieldChange]

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.changes]


@dataclass
class LayerDiff:
    old: InterfaceLayer | None
    new: InterfaceLayer
    entities_added: list[str] = field(default_factory=list)
    entities_removed: list[str] = field(default_factory=list)
    entities_changed: list[EntityChange] = field(default_factory=list)
    attributes_added: list[tuple[str, str]] = field(default_factory=list)
    attributes_removed: list[tuple[str, str]] = field(default_factory=list)
    attributes_changed: list[AttributeChange] = field(default_factory=list)
    relationships_added: list[str] = field(default_factory=list)
    relationships_removed: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(
            [
                self.entities_added,
                self.entities_removed,
                self.entities_changed,
                self.attributes_added,
                self.attributes_removed,
                self.attributes_changed,
                self.relationships_added,
                self.relationships_removed,
            ]
        )

    def summary(self) -> str:
        return (
            f"entities +{len(self.entities_added)} -{len(self.entities_removed)} "
            f"~{len(self.entities_changed)}; attributes +{len(self.attributes_added)} "
            f"-{len(self.attributes_removed)} ~{len(self.attributes_changed)}; relationships "
            f"+{len(self.relationships_added)} -{len(self.relationships_removed)}"
        )


def _snapshot(layer: InterfaceLayer | None):
    if layer is None:
        return {}, {}, set()
    entities = {
        e["name"]: e
        for e in InterfaceEntity.objects.filter(layer=layer).values("name", *ENTITY_FIELDS)
    }
    attributes = {
        (a["entity__name"], a["name"]): a
        for a in InterfaceAttribute.objects.filter(layer=layer)
        .order_by("entity__position", "position")
        .values("entity__name", "name", *ATTRIBUTE_FIELDS)
    }
    relationships = {
        # An external target has no attribute here: it is named as written.
        f"{r[0]}.{r[1]} → {r[4] or f'{r[2]}.{r[3]}'}"
        for r in InterfaceRelationship.objects.filter(layer=layer).values_list(
            "from_attribute__entity__name",
            "from_attribute__name",
            "to_attribute__entity__name",
            "to_attribute__name",
            "to_reference",
        )
    }
    return entities, attributes, relationships


def layer_diff(*, old: InterfaceLayer | None, new: InterfaceLayer) -> LayerDiff:
    """What changes from `old` (usually the published version) to `new`; 6 queries."""
    old_entities, old_attributes, old_relationships = _snapshot(old)
    new_entities, new_attributes, new_relationships = _snapshot(new)
    diff = LayerDiff(old=old, new=new)
    diff.entities_added = [n for n in new_entities if n not in old_entities]
    diff.entities_removed = [n for n in old_entities if n not in new_entities]
    for name, new_row in new_entities.items():
        if name in old_entities:
            changes = _changes(old_entities[name], new_row, ENTITY_FIELDS)
            if changes:
                diff.entities_changed.append(EntityChange(name, changes))
    diff.attributes_added = [k for k in new_attributes if k not in old_attributes]
    diff.attributes_removed = [k for k in old_attributes if k not in new_attributes]
    for key, new_row in new_attributes.items():
        if key in old_attributes:
            changes = _changes(old_attributes[key], new_row, ATTRIBUTE_FIELDS)
            if changes:
                diff.attributes_changed.append(AttributeChange(key[0], key[1], changes))
    diff.relationships_added = sorted(new_relationships - old_relationships)
    diff.relationships_removed = sorted(old_relationships - new_relationships)
    return diff


def _changes(old: dict, new: dict, fields: list[str]) -> list[FieldChange]:
    return [FieldChange(f, old[f], new[f]) for f in fields if old[f] != new[f]]
