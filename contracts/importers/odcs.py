"""Reading an ODCS v3 data contract (YAML or JSON) into records.

Three steps, each reporting everything it finds before the import is refused: older spellings are
mapped to their current names (`isNullable: true` is `required: false`); the document is checked
against the standard's own JSON Schema (`odcs_schema`); then our own checks on top — names,
keys, relationships — which the schema cannot express. Nothing is lost on the way: what we do not
model is kept as written in `extra` and written back by the export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

import yaml

from ..choices import SourceFormat
from .data_types import parse_physical_type
from .errors import ContractFileError
from .fast_yaml import YamlLimitError, load_yaml
from .odcs_schema import Problem, in_document_order, schema_problems
from .records import (
    AttributeRecord,
    EntityRecord,
    JsonValue,
    ParsedContract,
    RelationshipRecord,
    split_reference,
)

SUPPORTED_API_VERSIONS = ("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.2.0")
# An export says the release its file said from v3.1.0 on. A v3.0.x contract goes out as v3.1.0,
# under the current names its older spellings are read as (`metric`, not v3.0's `rule`), and so
# does a contract read from a spreadsheet.
EXPORT_API_VERSION = "v3.1.0"
KEPT_API_VERSIONS = ("v3.1.0", "v3.2.0")
CANONICAL_MEANING = "canonicalMeaning"

LOGICAL_TYPE_OPTIONS = {"maxLength": "max_length", "pattern": "pattern", "format": "format"}
LOGICAL_TYPE_BOUNDS = {"minimum": "minimum", "maximum": "maximum"}


TOO_DEEP = "refused: the document is nested too deeply."


def load_document(file_name: str, content: bytes, fmt: str) -> Any:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContractFileError(file_name, "", "the file is not UTF-8 text.") from None
    if fmt == SourceFormat.ODCS_JSON:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContractFileError(
                file_name, f"line {exc.lineno}, column {exc.colno}", f"malformed JSON ({exc.msg})."
            ) from None
        except RecursionError:  # the JSON decoder recurses once per nested array or object
            raise ContractFileError(file_name, "", TOO_DEEP) from None
    try:
        return load_yaml(text)
    except YamlLimitError as exc:
        mark = exc.problem_mark
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ContractFileError(file_name, place, f"refused: {exc.problem}.") from None
    except RecursionError:
        raise ContractFileError(file_name, "", TOO_DEEP) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContractFileError(file_name, place, f"malformed YAML ({problem}).") from None


# Older spellings of property keys and their current names; True where the meaning is inverted.
OLDER_PROPERTY_SPELLINGS = {
    "isNullable": ("required", True),
    "isUnique": ("unique", False),
    "isPrimaryKey": ("primaryKey", False),
    "isPrimary": ("primaryKey", False),
    "criticalDataElementStatus": ("criticalDataElement", False),
    "partitionStatus": ("partitioned", False),
}
OLDER_OBJECT_SPELLINGS = {"dataGranularity": "dataGranularityDescription"}
# v3.0 names a library rule `rule`; v3.1 `metric` (and a few metrics were renamed).
OLDER_METRICS = {"duplicateCount": "duplicateValues"}

# Keys of a schema object and of a property that are read into record fields; the others are
# kept as written in `extra`.
_OBJECT_MODELLED = {
    "name",
    "physicalName",
    "businessName",
    "description",
    "dataGranularityDescription",
    "properties",
    "relationships",
}
_PROPERTY_MODELLED = {
    "name",
    "physicalName",
    "businessName",
    "description",
    "logicalType",
    "physicalType",
    "required",
    "unique",
    "primaryKey",
    "primaryKeyPosition",
    "classification",
    "examples",
    "logicalTypeOptions",
    "quality",
    "relationships",
    "customProperties",
}
_CONTRACT_MODELLED = {"kind", "id", "name", "version", "schema"}

Json = dict[str, Any]  # a mapping read from the document


@dataclass(frozen=True, slots=True)
class TypeOptions:
    """The `logicalTypeOptions` we model; the others are kept in `extra`."""

    max_length: int | None = None
    format: str = ""
    pattern: str = ""
    minimum: JsonValue = None
    maximum: JsonValue = None


_NO_TYPE_OPTIONS = TypeOptions()


@dataclass(slots=True)
class _Declaration:
    """A relationship as written, before its references are resolved."""

    place: str
    entity: str  # the schema object it is declared on
    attribute: str | None  # the property it is declared on; None on the schema object
    body: Json


@dataclass(slots=True)
class _Names:
    """What references resolve against: names, and the stable ids of objects and properties."""

    attributes: dict[str, set[str]] = field(default_factory=dict)
    by_id: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    entity_ids: set[str] = field(default_factory=set)


def modernize(document: Json) -> tuple[Json, list[Problem]]:
    """`document` with older spellings under their current names, and any conflict. The caller's
    document is left as it was: only the mappings on the way to a renamed key are copied (a deep
    copy of a 20,000-attribute contract costs seconds)."""
    problems: list[Problem] = []
    document = dict(document)
    schema = document.get("schema")
    if isinstance(schema, list):
        document["schema"] = [
            _modern_object(obj, f"schema[{index}]", problems) for index, obj in enumerate(schema)
        ]
    return document, problems


def _modern_object(obj: Any, place: str, problems: list[Problem]) -> Any:
    if not isinstance(obj, dict):
        return obj
    obj = dict(obj)
    for old, new in OLDER_OBJECT_SPELLINGS.items():
        if old in obj:
            _move_key(obj, old, new, place, problems, invert=False)
    if isinstance(obj.get("properties"), list):
        obj["properties"] = _modern_properties(obj["properties"], place, problems)
    return obj


def _modern_properties(properties: list[Any], place: str, problems: list[Problem]) -> list[Any]:
    result = []
    for index, prop in enumerate(properties):
        prop_place = f"{place}.properties[{index}]"
        older = isinstance(prop, dict) and not prop.keys().isdisjoint(OLDER_PROPERTY_SPELLINGS)
        nested = isinstance(prop, dict) and isinstance(prop.get("properties"), list)
        if older or nested:
            prop = dict(prop)
            for old, (new, invert) in OLDER_PROPERTY_SPELLINGS.items():
                if old in prop and isinstance(prop[old], bool):
                    _move_key(prop, old, new, prop_place, problems, invert=invert)
            if nested:
                prop["properties"] = _modern_properties(prop["properties"], prop_place, problems)
        result.append(prop)
    return result


def _move_key(
    obj: Json, old: str, new: str, place: str, problems: list[Problem], *, invert: bool
) -> None:
    value = obj[old]
    value = (not value) if invert else value
    if new in obj and obj[new] != value:
        problems.append(
            Problem(f"{place}.{old}", f"contradicts {new} (the current name of the same setting).")
        )
        return
    # Keep the key's place in the mapping, so the export writes it where the author did.
    items = [(new if k == old else k, value if k == old else v) for k, v in obj.items() if k != new]
    obj.clear()
    obj.update(items)


class OdcsReader:
    """Reads a loaded ODCS document; a refusal lists every problem found, each with its path."""

    def __init__(self, file_name: str, fmt: str) -> None:
        self.file_name = file_name
        self.fmt = fmt
        self.problems: list[Problem] = []
        self.declarations: list[_Declaration] = []

    def fail(self, place: str, message: str) -> NoReturn:
        raise ContractFileError(self.file_name, place, message)

    def problem(self, place: str, message: str) -> None:
        self.problems.append(Problem(place, message))

    def refuse_if_any(self) -> None:
        if self.problems:
            raise ContractFileError.problems(self.file_name, in_document_order(self.problems))

    def read(self, document: Any) -> ParsedContract:
        if not isinstance(document, dict):
            self.fail("", "expected an ODCS data contract (a mapping at the top level).")
        api_version = self.check_api_version(document)
        document, self.problems = modernize(document)
        self.problems += schema_problems(document, api_version)
        self.refuse_if_any()
        schema = document.get("schema")
        if not schema:
            self.fail("schema", "missing required key (a list of schema objects).")
        self.declarations = []
        entities = self.read_schema(schema)
        relationships = self.read_relationships(entities, schema)
        self.refuse_if_any()
        description, extra = self.contract_description_and_extra(document)
        return ParsedContract(
            name=str(document.get("name") or document["id"]),
            name_in_file=bool(document.get("name")),
            version=str(document["version"]),
            contract_id=str(document["id"]),
            description=description,
            source_format=self.fmt,
            extra=extra,
            entities=tuple(entities),
            relationships=tuple(relationships),
        )

    def check_api_version(self, document: Json) -> str:
        """The schema to check against is chosen by `apiVersion`, so it is read first."""
        api_version = document.get("apiVersion")
        if api_version in (None, ""):
            self.fail("apiVersion", "missing required key.")
        if api_version not in SUPPORTED_API_VERSIONS:
            self.fail(
                "apiVersion",
                f"unsupported ODCS version '{api_version}'; expected one of "
                f"{', '.join(SUPPORTED_API_VERSIONS)}.",
            )
        return api_version

    @staticmethod
    def contract_description_and_extra(document: Json) -> tuple[str, Json]:
        """The description's purpose, and every other top-level key kept as written."""
        extra = {k: v for k, v in document.items() if k not in _CONTRACT_MODELLED}
        if extra["apiVersion"] not in KEPT_API_VERSIONS:
            extra["apiVersion"] = EXPORT_API_VERSION
        description = extra.get("description") or {}
        return str(description.get("purpose") or ""), extra

    # schema objects and properties ----------------------------------------------------------

    def read_schema(self, schema: list[Json]) -> list[EntityRecord]:
        entities = []
        seen: dict[str, int] = {}
        for index, obj in enumerate(schema):
            place = f"schema[{index}]"
            entity = self.read_object(obj, place)
            if entity.name in seen:
                self.problem(
                    f"{place}.name",
                    f"duplicate entity name '{entity.name}' "
                    f"(already at schema[{seen[entity.name]}]).",
                )
            seen.setdefault(entity.name, index)
            entities.append(entity)
        return entities

    def read_object(self, obj: Json, place: str) -> EntityRecord:
        name = self.name_of(obj, place)
        properties = obj.get("properties")
        if not properties:
            self.problem(f"{place}.properties", "missing required key (a list of properties).")
        attributes = self.read_properties(properties or [], place, name)
        for index, rel in enumerate(obj.get("relationships") or []):
            self.declarations.append(
                _Declaration(f"{place}.relationships[{index}]", name, None, rel)
            )
        return EntityRecord(
            name=name,
            physical_name=obj.get("physicalName", ""),
            business_name=obj.get("businessName", ""),
            description=obj.get("description", ""),
            grain=obj.get("dataGranularityDescription", ""),
            extra={k: v for k, v in obj.items() if k not in _OBJECT_MODELLED},
            attributes=tuple(attributes),
            place=place,
        )

    def read_properties(
        self, properties: list[Json], place: str, entity_name: str
    ) -> list[AttributeRecord]:
        attributes = []
        seen: dict[str, int] = {}
        pk_positions: dict[int, str] = {}
        for index, prop in enumerate(properties):
            prop_place = f"{place}.properties[{index}]"
            attribute = self.read_property(prop, prop_place, entity_name)
            if attribute.name in seen:
                self.problem(
                    f"{prop_place}.name",
                    f"duplicate attribute name '{attribute.name}' in entity '{entity_name}' "
                    f"(already at {place}.properties[{seen[attribute.name]}]).",
                )
            seen.setdefault(attribute.name, index)
            position = attribute.primary_key_position
            if position is not None and position in pk_positions:
                self.problem(
                    f"{prop_place}.primaryKeyPosition",
                    f"primary key position {position} is already taken by "
                    f"'{pk_positions[position]}'.",
                )
            elif position is not None:
                pk_positions[position] = attribute.name
            attributes.append(attribute)
        return attributes

    def read_property(self, prop: Json, place: str, entity_name: str) -> AttributeRecord:
        name = self.name_of(prop, place)
        extra = (
            {}  # most properties: every key is modelled (a subset test in C, no loop)
            if prop.keys() <= _PROPERTY_MODELLED
            else {k: v for k, v in prop.items() if k not in _PROPERTY_MODELLED}
        )
        physical_type = prop.get("physicalType", "")
        length, precision, scale = parse_physical_type(physical_type)
        primary_key = prop.get("primaryKey", False)
        options, rest_options = self.type_options(prop, place)
        if rest_options:
            extra["logicalTypeOptions"] = rest_options
        allowed_values = self.allowed_values(prop, place, extra)
        canonical_meaning = self.canonical_meaning(prop, extra)
        for index, rel in enumerate(prop.get("relationships") or []):
            self.declarations.append(
                _Declaration(f"{place}.relationships[{index}]", entity_name, name, rel)
            )
        return AttributeRecord(
            name=name,
            physical_name=prop.get("physicalName", ""),
            business_name=prop.get("businessName", ""),
            description=prop.get("description", ""),
            logical_type=prop.get("logicalType", ""),
            physical_type=physical_type,
            length=length,
            precision=precision,
            scale=scale,
            required=prop.get("required", False),
            unique=prop.get("unique", False),
            primary_key=primary_key,
            primary_key_position=self.primary_key_position(prop, place, primary_key=primary_key),
            classification=prop.get("classification", ""),
            examples=prop.get("examples") or [],
            allowed_values=allowed_values,
            max_length=options.max_length,
            format=options.format,
            pattern=options.pattern,
            minimum=options.minimum,
            maximum=options.maximum,
            canonical_meaning=canonical_meaning,
            extra=extra,
            place=place,
        )

    def primary_key_position(self, prop: Json, place: str, *, primary_key: bool) -> int | None:
        position = prop.get("primaryKeyPosition")
        if position is None or position < 1:
            return None  # ODCS writes -1 for "not part of the key"
        if not primary_key:
            self.problem(f"{place}.primaryKeyPosition", "is set but primaryKey is not true.")
        return position

    def type_options(self, prop: Json, place: str) -> tuple[TypeOptions, Json]:
        """The modelled `logicalTypeOptions`, and the rest as written."""
        options = prop.get("logicalTypeOptions")
        if not options:  # most properties
            return _NO_TYPE_OPTIONS, {}
        modelled: dict[str, Any] = {}
        rest: Json = {}
        for key, value in options.items():
            if key == "maxLength":
                # Without a logicalType the schema does not type the options: check ours.
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    self.problem(
                        f"{place}.logicalTypeOptions.maxLength", "expected a whole number."
                    )
                    continue
                modelled["max_length"] = value
            elif key in ("pattern", "format"):
                modelled[key] = str(value)
            elif key in LOGICAL_TYPE_BOUNDS:
                modelled[key] = value
            else:
                rest[key] = value
        return TypeOptions(**modelled), rest

    def allowed_values(self, prop: Json, place: str, extra: Json) -> list[JsonValue]:
        """The validValues of the first `invalidValues` rule, else the values of the property's
        `enum` (v3.2), which stays in `extra` as written. The rules are kept as written in
        `extra` unless they are exactly the one rule the export writes from the values."""
        rules = prop.get("quality")
        if not rules and "enum" not in prop:  # most properties: nothing to read or keep
            return []
        quality = [_current_metric(rule) for rule in rules or []]
        allowed: list[JsonValue] = []
        for index, rule in enumerate(quality):
            values = (rule.get("arguments") or {}).get("validValues")
            if rule.get("metric") == "invalidValues" and values is not None:
                if not isinstance(values, list):
                    self.problem(
                        f"{place}.quality[{index}].arguments.validValues", "expected a list."
                    )
                    values = []
                allowed = values
                break
        enum = prop.get("enum")
        if not allowed and isinstance(enum, list):
            allowed = [item["value"] for item in enum if isinstance(item, dict) and "value" in item]
        if quality and (quality != allowed_values_rules(allowed) or "enum" in prop):
            extra["quality"] = quality
        return allowed

    @staticmethod
    def canonical_meaning(prop: Json, extra: Json) -> str:
        """The `canonicalMeaning` custom property; the list is kept unless it is only that one."""
        custom = prop.get("customProperties") or []
        if len(custom) == 1:  # most properties: only the meaning, which is all the export writes
            only = custom[0]
            value = only.get("value") if isinstance(only, dict) and len(only) == 2 else None
            if isinstance(value, str) and value and only.get("property") == CANONICAL_MEANING:
                return value
        meaning = next(
            (str(c.get("value") or "") for c in custom if c.get("property") == CANONICAL_MEANING),
            "",
        )
        if custom and custom != canonical_meaning_properties(meaning):
            extra["customProperties"] = custom
        return meaning

    def name_of(self, obj: Json, place: str) -> str:
        name = obj.get("name") or ""
        if not name:
            self.problem(f"{place}.name", "missing required key.")
        elif len(name) > 200:
            self.problem(f"{place}.name", "longer than 200 characters.")
        return name

    # relationships --------------------------------------------------------------------------

    def read_relationships(
        self, entities: list[EntityRecord], schema: list[Json]
    ) -> list[RelationshipRecord]:
        """Resolve every declaration; a relationship written on both the property and the schema
        object is one relationship, and a target outside this contract is kept as external."""
        names = _names_of(entities, schema)
        records: list[RelationshipRecord] = []
        group = 0
        for declaration in self.declarations:
            written_as_lists = isinstance(declaration.body.get("to"), list)
            group += written_as_lists
            records += self.resolve(declaration, names, group if written_as_lists else None)
        return self.merge_placements(records)

    def resolve(
        self, declaration: _Declaration, names: _Names, group: int | None
    ) -> list[RelationshipRecord]:
        body, place = declaration.body, declaration.place
        targets = body["to"] if isinstance(body["to"], list) else [body["to"]]
        on_schema = declaration.attribute is None
        if on_schema:
            sources = body["from"] if isinstance(body["from"], list) else [body["from"]]
        else:
            sources = [f"{declaration.entity}.{declaration.attribute}"] * len(targets)
        if len(sources) != len(targets):
            self.problem(place, "'from' and 'to' must list the same number of attributes.")
            return []
        rest = {k: v for k, v in body.items() if k not in {"type", "from", "to"}}
        records = []
        for i, (source, target) in enumerate(zip(sources, targets, strict=True)):
            suffix = f"[{i}]" if group is not None else ""
            start = self.resolve_source(source, names, f"{place}.from{suffix}", on_schema)
            end = self.resolve_target(target, names, f"{place}.to{suffix}")
            if start is None or end is None:
                continue
            records.append(
                RelationshipRecord(
                    from_entity=start[0],
                    from_attribute=start[1],
                    to_entity=end[0],
                    to_attribute=end[1],
                    on_schema=on_schema,
                    external=not end[0],
                    from_reference=source if on_schema and source != ".".join(start) else "",
                    to_reference=target if target != ".".join(end) else "",
                    group=group,
                    key_position=i + 1 if group is not None else None,
                    extra=rest,
                    place=f"{place}.{'from' if on_schema else 'to'}{suffix}",
                )
            )
        return records

    def resolve_source(
        self, reference: str, names: _Names, place: str, on_schema: bool
    ) -> tuple[str, str] | None:
        if not on_schema:  # the property itself
            entity, attribute = reference.split(".", 1)
            return entity, attribute
        found = self.resolve_target(reference, names, place, verb="starts at")
        if found is not None and not found[0]:
            self.problem(place, f"the relationship starts outside this contract ('{reference}').")
            return None
        return found

    def resolve_target(
        self, reference: str, names: _Names, place: str, verb: str = "refers to"
    ) -> tuple[str, str] | None:
        """(entity, attribute) in this contract; ('', '') when outside it; None when missing."""
        if len(reference) > 500:
            self.problem(place, "longer than 500 characters.")
            return None
        shorthand = split_reference(reference)
        if shorthand is not None:
            entity, attribute = shorthand
            if entity not in names.attributes:
                return "", ""  # an object of another contract: legal, kept as external
            if attribute not in names.attributes[entity]:
                if verb == "refers to":
                    # The standard and its linter accept it (one of its own examples does this):
                    # kept as written and shown as unresolved; no key is built on it.
                    return "", ""
                self.problem(place, f"the relationship {verb} a missing attribute '{reference}'.")
                return None
            return entity, attribute
        if "#" in reference:
            return "", ""  # another file
        parts = reference.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "schema" and parts[2] == "properties":
            if (parts[1], parts[3]) in names.by_id:
                return names.by_id[(parts[1], parts[3])]
            if parts[1] not in names.entity_ids:
                return "", ""
        self.problem(place, f"the relationship {verb} a missing property '{reference}'.")
        return None

    def merge_placements(self, records: list[RelationshipRecord]) -> list[RelationshipRecord]:
        """One record per relationship: a property-level declaration repeated on the schema
        object joins it; the same one twice in one placement is refused."""
        seen: dict[tuple, RelationshipRecord] = {}
        merged: list[RelationshipRecord] = []
        for record in records:
            key = (record.from_entity, record.from_attribute, record.target, record.on_schema)
            if key in seen:
                self.problem(
                    record.place,
                    f"the relationship {record.from_entity}.{record.from_attribute} → "
                    f"{record.target} is declared twice here (first at {seen[key].place}).",
                )
                continue
            seen[key] = record
            merged.append(record)
        on_property = {_endpoints(r): r for r in merged if not r.on_schema and r.group is None}
        joined: set[tuple] = set()
        result = []
        for record in merged:
            if (
                record.on_schema
                and _endpoints(record) in on_property
                and _endpoints(record) not in joined
            ):
                joined.add(_endpoints(record))
                twin = on_property[_endpoints(record)]
                record = replace(record, also_on_property=True, property_extra=twin.extra)
            result.append(record)
        return [
            r for r in result if r.on_schema or r.group is not None or _endpoints(r) not in joined
        ]


def _endpoints(record: RelationshipRecord) -> tuple[str, str, str]:
    return record.from_entity, record.from_attribute, record.target


def _names_of(entities: list[EntityRecord], schema: list[Json]) -> _Names:
    names = _Names()
    for entity, obj in zip(entities, schema, strict=True):
        names.attributes.setdefault(entity.name, {a.name for a in entity.attributes})
        if obj.get("id"):
            names.entity_ids.add(obj["id"])
        for prop in obj.get("properties") or []:
            if obj.get("id") and prop.get("id"):
                names.by_id[(obj["id"], prop["id"])] = (entity.name, prop.get("name", ""))
    return names


def _current_metric(rule: Json) -> Json:
    """A v3.0 library rule (`rule: duplicateCount`) under its v3.1 names (`metric:
    duplicateValues`); other rules as written."""
    if "rule" not in rule or "metric" in rule:
        return rule
    return {
        ("metric" if k == "rule" else k): (OLDER_METRICS.get(v, v) if k == "rule" else v)
        for k, v in rule.items()
    }


def allowed_values_rules(allowed: list[JsonValue]) -> list[Json]:
    """The quality rules the export writes for allowed values that have no rules of their own."""
    if not allowed:
        return []
    return [
        {
            "type": "library",
            "metric": "invalidValues",
            "arguments": {"validValues": allowed},
            "mustBe": 0,
        }
    ]


def quality_as_written(allowed_values: list[JsonValue], extra: Json) -> list[Json]:
    """An attribute's quality rules as its file wrote them: kept whole in `extra`, or, when they
    were only the allowed values' plain rule, that rule again."""
    kept = extra.get("quality")
    if kept or "enum" in extra:  # an enum says the values itself
        return list(kept or [])
    return allowed_values_rules(allowed_values)


def canonical_meaning_properties(meaning: str) -> list[Json]:
    """The custom properties the export writes for a canonical meaning without others."""
    return [{"property": CANONICAL_MEANING, "value": meaning}] if meaning else []
