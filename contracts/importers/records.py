"""What the parsers produce and the contract services consume."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# An `entity.attribute` reference, as relationships are written in every format.
REFERENCE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")


@dataclass
class ParsedAttribute:
    fields: dict[str, Any]
    place: str


@dataclass
class ParsedEntity:
    fields: dict[str, Any]
    attributes: list[ParsedAttribute]
    place: str


@dataclass
class ParsedRelationship:
    from_entity: str
    from_attribute: str
    to_entity: str
    to_attribute: str
    on_schema: bool
    extra: dict[str, Any]
    place: str


@dataclass
class ParsedContract:
    name: str
    version: str
    contract_id: str
    description: str
    source_format: str
    extra: dict[str, Any] = field(default_factory=dict)
    entities: list[ParsedEntity] = field(default_factory=list)
    relationships: list[ParsedRelationship] = field(default_factory=list)

    @property
    def attribute_count(self) -> int:
        return sum(len(e.attributes) for e in self.entities)
