"""What every parser produces and the contract services consume: one typed record per thing.

Records are frozen: a parser gathers everything about an attribute first, then builds its record
once. `place` says where in the file the thing was read (for error messages); it is not part of a
record's value, so the same attribute read from ODCS and from a spreadsheet compares equal.
JSON-shaped values (examples, allowed values, bounds, `extra`) stay plain lists and dicts, as the
model's JSON fields store them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# An `entity.attribute` reference, as relationships are written in every format.
REFERENCE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")

# A JSON value as read from the file (a bound, an example, an allowed value).
JsonValue = Any


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeRecord:
    """One interface attribute; its fields are those of `InterfaceAttribute`."""

    name: str
    physical_name: str = ""
    business_name: str = ""
    description: str = ""
    logical_type: str = ""
    physical_type: str = ""
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    primary_key_position: int | None = None
    classification: str = ""
    examples: list[JsonValue] = field(default_factory=list)
    allowed_values: list[JsonValue] = field(default_factory=list)
    max_length: int | None = None
    format: str = ""
    pattern: str = ""
    minimum: JsonValue = None
    maximum: JsonValue = None
    canonical_meaning: str = ""
    extra: dict[str, JsonValue] = field(default_factory=dict)
    place: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class EntityRecord:
    """One interface entity with its attributes in file order."""

    name: str
    physical_name: str = ""
    business_name: str = ""
    description: str = ""
    grain: str = ""
    extra: dict[str, JsonValue] = field(default_factory=dict)
    attributes: tuple[AttributeRecord, ...] = ()
    place: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class RelationshipRecord:
    """A foreign key from one attribute to another, both named `entity.attribute`.

    A key of several columns is one record per column pair, sharing `group` and numbered by
    `key_position`; `group` is set whenever the file wrote `from`/`to` as lists, so the export
    writes lists again. A target outside this contract is `external`: `to_reference` holds it as
    written and `to_entity`/`to_attribute` are blank. A relationship declared both on the
    property and on the schema object is one record with `on_schema` and `also_on_property`.
    """

    from_entity: str
    from_attribute: str
    to_entity: str
    to_attribute: str
    on_schema: bool = False  # declared on the schema object rather than on the property
    also_on_property: bool = False  # declared on the schema object and on the property
    external: bool = False
    from_reference: str = ""  # as written, when not the `entity.attribute` shorthand
    to_reference: str = ""  # as written, when external or not the shorthand
    group: int | None = None
    key_position: int | None = None
    extra: dict[str, JsonValue] = field(default_factory=dict)
    property_extra: dict[str, JsonValue] = field(default_factory=dict)
    place: str = field(default="", compare=False)

    @property
    def target(self) -> str:
        return self.to_reference or f"{self.to_entity}.{self.to_attribute}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedContract:
    """A whole contract file: its header, entities and relationships, in file order."""

    name: str
    version: str
    contract_id: str
    description: str
    source_format: str
    name_in_file: bool = True
    extra: dict[str, JsonValue] = field(default_factory=dict)
    entities: tuple[EntityRecord, ...] = ()
    relationships: tuple[RelationshipRecord, ...] = ()

    @property
    def attribute_count(self) -> int:
        return sum(len(e.attributes) for e in self.entities)


def split_reference(value: object) -> tuple[str, str] | None:
    """('entity', 'attribute') of an `entity.attribute` reference; None if `value` is not one."""
    match = REFERENCE.match(value) if isinstance(value, str) else None
    return (match.group(1), match.group(2)) if match else None
