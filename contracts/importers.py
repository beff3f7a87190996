"""Reading a contract file into plain data: ODCS v3 (YAML or JSON) or a spreadsheet (xlsx or csv).

Parsing writes nothing. Every refusal is a `ContractFileError` (a Django ValidationError) whose
message names the file and the place — a YAML path such as `schema[2].properties[4].logicalType`,
or `row 5, column C (Data Type)` — so the CLI, the API and the UI all show the same sentence.
The services turn the parsed contract into rows in one transaction.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import yaml
from django.core.exceptions import ValidationError

from .choices import LogicalType, SourceFormat

SUPPORTED_API_VERSIONS = ("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0")
CANONICAL_MEANING = "canonicalMeaning"

# Keys the ODCS v3.1 JSON schema knows at each level. Keys we model are read into fields; the
# other known keys are kept as they are in `extra`; unknown keys become custom properties.
ODCS_TOP_KEYS = {
    "version",
    "kind",
    "apiVersion",
    "id",
    "name",
    "tenant",
    "tags",
    "status",
    "servers",
    "dataProduct",
    "description",
    "domain",
    "schema",
    "support",
    "price",
    "team",
    "roles",
    "slaDefaultElement",
    "slaProperties",
    "authoritativeDefinitions",
    "customProperties",
    "contractCreatedTs",
}
ODCS_ELEMENT_KEYS = {
    "id",
    "name",
    "physicalType",
    "description",
    "businessName",
    "authoritativeDefinitions",
    "tags",
    "customProperties",
}
ODCS_OBJECT_KEYS = ODCS_ELEMENT_KEYS | {
    "logicalType",
    "physicalName",
    "dataGranularityDescription",
    "properties",
    "relationships",
    "quality",
}
ODCS_PROPERTY_KEYS = ODCS_ELEMENT_KEYS | {
    "classification",
    "criticalDataElement",
    "encryptedName",
    "examples",
    "logicalType",
    "logicalTypeOptions",
    "partitionKeyPosition",
    "partitioned",
    "physicalName",
    "primaryKey",
    "primaryKeyPosition",
    "quality",
    "relationships",
    "required",
    "transformDescription",
    "transformLogic",
    "transformSourceObjects",
    "unique",
    "items",
    "properties",
}
LOGICAL_TYPE_OPTIONS = {"maxLength": "max_length", "pattern": "pattern", "format": "format"}
LOGICAL_TYPE_BOUNDS = {"minimum": "minimum", "maximum": "maximum"}

SPREADSHEET_HEADER = [
    "Entity",
    "Attribute",
    "Data Type",
    "Required",
    "Primary Key",
    "Unique",
    "Allowed Values",
    "References",
    "Canonical Meaning",
    "Description",
]

# Physical type names (lower case, without size) and the logical type each stands for.
PHYSICAL_TO_LOGICAL = {
    **dict.fromkeys(
        ["varchar", "char", "character", "nvarchar", "nchar", "text", "string", "uuid", "clob"],
        LogicalType.STRING,
    ),
    **dict.fromkeys(["int", "integer", "bigint", "smallint", "tinyint", "int64"], "integer"),
    **dict.fromkeys(
        ["decimal", "numeric", "number", "float", "double", "real", "float64", "money"], "number"
    ),
    "date": LogicalType.DATE,
    **dict.fromkeys(["timestamp", "datetime", "timestamptz", "timestamp_ntz"], "timestamp"),
    "time": LogicalType.TIME,
    **dict.fromkeys(["boolean", "bool", "bit"], LogicalType.BOOLEAN),
    **dict.fromkeys(["json", "jsonb", "object", "struct", "variant", "map"], LogicalType.OBJECT),
    "array": LogicalType.ARRAY,
}
_TYPE_SIZE = re.compile(r"^\s*([A-Za-z_][\w ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")
_NUMERIC_BASES = {"decimal", "numeric", "number"}
_REFERENCE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")


class ContractFileError(ValidationError):
    """A refusal of the file, naming the file and the place."""

    def __init__(self, file_name: str, place: str, message: str):
        where = f"{file_name}: {place}: " if place else f"{file_name}: "
        super().__init__(where + message, code="invalid_contract")


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


def source_format_of(file_name: str) -> str:
    suffix = PurePath(file_name).suffix.lower()
    formats = {
        ".yaml": SourceFormat.ODCS_YAML,
        ".yml": SourceFormat.ODCS_YAML,
        ".json": SourceFormat.ODCS_JSON,
        ".xlsx": SourceFormat.XLSX,
        ".csv": SourceFormat.CSV,
    }
    if suffix not in formats:
        raise ContractFileError(
            file_name, "", "unsupported file type; expected .yaml, .yml, .json, .xlsx or .csv."
        )
    return formats[suffix]


def parse_contract(file_name: str, content: bytes) -> ParsedContract:
    """Parse `content` according to the file name's extension; raises ContractFileError."""
    fmt = source_format_of(file_name)
    if not content.strip():
        raise ContractFileError(file_name, "", "the file is empty.")
    if fmt in (SourceFormat.XLSX, SourceFormat.CSV):
        return SpreadsheetReader(file_name, fmt).read(content)
    document = _load_document(file_name, content, fmt)
    return OdcsReader(file_name, fmt).read(document)


# --- ODCS ----------------------------------------------------------------------------------------


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class _StringDatesLoader(_SafeLoader):
    """Safe YAML loading that keeps dates and timestamps as the strings they were written as."""


_StringDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Fallback(Exception):
    """The fast loader met something it leaves to the full loader (tags, merge keys, ...)."""


class _FastYaml:
    """Safe YAML loading straight from libyaml's events into dicts and lists.

    Composing a node graph before constructing Python objects is most of PyYAML's cost on a large
    contract (a 200×100 contract: ~4 s, against ~0.3 s for the events). Plain documents — the
    contracts we see — are built from the events directly, with the same implicit types as
    `_StringDatesLoader` (null, bool, int, float; dates stay strings); anything unusual (explicit
    tags, merge keys, complex keys, several documents) falls back to the full loader.
    """

    _str = "tag:yaml.org,2002:str"

    def __init__(self):
        self.resolver = _StringDatesLoader("")
        self.constructor = yaml.constructor.SafeConstructor()
        self.resolved: dict = {}
        self.convert = {
            "tag:yaml.org,2002:null": lambda value: None,
            "tag:yaml.org,2002:bool": self._scalar(self.constructor.construct_yaml_bool),
            "tag:yaml.org,2002:int": self._scalar(self.constructor.construct_yaml_int),
            "tag:yaml.org,2002:float": self._scalar(self.constructor.construct_yaml_float),
        }

    @staticmethod
    def _scalar(construct):
        return lambda value: construct(yaml.ScalarNode("", value))

    def scalar(self, event) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            key = (event.value, event.implicit)
            tag = self.resolved.get(key)
            if tag is None:
                tag = self.resolved[key] = self.resolver.resolve(
                    yaml.ScalarNode, event.value, event.implicit
                )
        if tag == self._str:
            return event.value
        convert = self.convert.get(tag)
        if convert is None:
            raise _Fallback(tag)
        return convert(event.value)

    def load(self, text: str) -> Any:
        events = yaml.events
        stack: list[list] = []  # [container, pending key]
        anchors: dict[str, Any] = {}
        root: list = []
        no_key = object()
        for event in yaml.parse(text, Loader=_SafeLoader):
            kind = type(event)
            if kind is events.ScalarEvent:
                value = self.scalar(event)
            elif kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
                if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                    raise _Fallback(event.tag)
                container: Any = {} if kind is events.MappingStartEvent else []
                if event.anchor:
                    anchors[event.anchor] = container
                stack.append([container, no_key])
                continue
            elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                container, key = stack.pop()
                if key is not no_key:
                    raise _Fallback("dangling key")
                value = container
                event = None
            elif kind is events.AliasEvent:
                if event.anchor not in anchors:
                    raise _Fallback("unknown alias")
                value = anchors[event.anchor]
                event = None
            else:
                continue
            if event is not None and event.anchor:
                anchors[event.anchor] = value
            if not stack:
                root.append(value)
                if len(root) > 1:
                    raise _Fallback("several documents")
                continue
            top = stack[-1]
            if isinstance(top[0], list):
                top[0].append(value)
            elif top[1] is no_key:
                if isinstance(value, dict | list) or value == "<<":
                    raise _Fallback("complex or merge key")
                top[1] = value
            else:
                top[0][top[1]] = value
                top[1] = no_key
        return root[0] if root else None


def _load_document(file_name: str, content: bytes, fmt: str) -> Any:
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
    try:
        try:
            return _FastYaml().load(text)
        except _Fallback:
            return yaml.load(text, Loader=_StringDatesLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContractFileError(file_name, place, f"malformed YAML ({problem}).") from None


class OdcsReader:
    def __init__(self, file_name: str, fmt: str):
        self.file_name = file_name
        self.fmt = fmt

    def fail(self, place: str, message: str):
        raise ContractFileError(self.file_name, place, message)

    def read(self, document: Any) -> ParsedContract:
        if not isinstance(document, dict):
            self.fail("", "expected an ODCS data contract (a mapping at the top level).")
        for key in ("apiVersion", "kind", "id", "version", "status"):
            if key not in document or document[key] in (None, ""):
                self.fail(key, "missing required key.")
        api_version = document["apiVersion"]
        if api_version not in SUPPORTED_API_VERSIONS:
            self.fail(
                "apiVersion",
                f"unsupported ODCS version '{api_version}'; expected one of "
                f"{', '.join(SUPPORTED_API_VERSIONS)}.",
            )
        if document["kind"] != "DataContract":
            self.fail("kind", f"expected 'DataContract', found '{document['kind']}'.")
        schema = document.get("schema")
        if not isinstance(schema, list) or not schema:
            self.fail("schema", "missing required key (a list of schema objects).")

        extra: dict[str, Any] = {}
        custom = []
        description = ""
        for key, value in document.items():
            if key in {"apiVersion", "kind", "id", "name", "version", "schema"}:
                continue
            if key == "description" and isinstance(value, dict):
                rest = {k: v for k, v in value.items() if k != "purpose"}
                description = str(value.get("purpose") or "")
                if rest:
                    extra["description"] = rest
            elif key == "description":
                description = str(value)
            elif key in ODCS_TOP_KEYS:
                extra[key] = value
            else:
                custom.append({"property": key, "value": value})
        _add_custom(extra, custom)
        contract = ParsedContract(
            name=str(document.get("name") or document["id"]),
            version=str(document["version"]),
            contract_id=str(document["id"]),
            description=description,
            source_format=self.fmt,
            extra=extra,
        )
        seen: dict[str, int] = {}
        for index, obj in enumerate(schema):
            place = f"schema[{index}]"
            entity = self.read_object(obj, place, contract)
            name = entity.fields["name"]
            if name in seen:
                self.fail(
                    f"{place}.name",
                    f"duplicate entity name '{name}' (already at schema[{seen[name]}]).",
                )
            seen[name] = index
            contract.entities.append(entity)
        return contract

    def read_object(self, obj: Any, place: str, contract: ParsedContract) -> ParsedEntity:
        if not isinstance(obj, dict):
            self.fail(place, "expected a schema object (a mapping).")
        name = self.name_of(obj, place)
        extra: dict[str, Any] = {}
        custom = []
        for key, value in obj.items():
            if key in ODCS_OBJECT_KEYS - {
                "name",
                "physicalName",
                "businessName",
                "description",
                "dataGranularityDescription",
                "properties",
                "relationships",
            }:
                extra[key] = value
            elif key not in ODCS_OBJECT_KEYS:
                custom.append({"property": key, "value": value})
        _add_custom(extra, custom)
        fields = {
            "name": name,
            "physical_name": self.text(obj, "physicalName", place),
            "business_name": self.text(obj, "businessName", place),
            "description": self.text(obj, "description", place),
            "grain": self.text(obj, "dataGranularityDescription", place),
            "extra": extra,
        }
        properties = obj.get("properties")
        if not isinstance(properties, list) or not properties:
            self.fail(f"{place}.properties", "missing required key (a list of properties).")
        attributes = []
        seen: dict[str, int] = {}
        pk_positions: dict[int, str] = {}
        for index, prop in enumerate(properties):
            prop_place = f"{place}.properties[{index}]"
            attribute = self.read_property(prop, prop_place, name, contract)
            attr_name = attribute.fields["name"]
            if attr_name in seen:
                self.fail(
                    f"{prop_place}.name",
                    f"duplicate attribute name '{attr_name}' in entity '{name}' "
                    f"(already at {place}.properties[{seen[attr_name]}]).",
                )
            seen[attr_name] = index
            position = attribute.fields["primary_key_position"]
            if position is not None:
                if position in pk_positions:
                    self.fail(
                        f"{prop_place}.primaryKeyPosition",
                        f"primary key position {position} is already taken by "
                        f"'{pk_positions[position]}'.",
                    )
                pk_positions[position] = attr_name
            attributes.append(attribute)
        for index, rel in enumerate(self.list_of(obj, "relationships", place)):
            rel_place = f"{place}.relationships[{index}]"
            if not isinstance(rel, dict):
                self.fail(rel_place, "expected a relationship (a mapping with from and to).")
            self.check_relationship_type(rel, rel_place)
            for key in ("from", "to"):
                if key not in rel:
                    self.fail(f"{rel_place}.{key}", "missing required key.")
            sources = rel["from"] if isinstance(rel["from"], list) else [rel["from"]]
            targets = rel["to"] if isinstance(rel["to"], list) else [rel["to"]]
            if len(sources) != len(targets):
                self.fail(rel_place, "'from' and 'to' must list the same number of attributes.")
            rel_extra = {k: v for k, v in rel.items() if k not in {"type", "from", "to"}}
            for i, (source, target) in enumerate(zip(sources, targets, strict=True)):
                suffix = f"[{i}]" if isinstance(rel["from"], list) else ""
                from_entity, from_attr = self.reference(source, f"{rel_place}.from{suffix}")
                to_entity, to_attr = self.reference(target, f"{rel_place}.to{suffix}")
                contract.relationships.append(
                    ParsedRelationship(
                        from_entity,
                        from_attr,
                        to_entity,
                        to_attr,
                        True,
                        rel_extra,
                        f"{rel_place}.from{suffix}",
                    )
                )
        return ParsedEntity(fields, attributes, place)

    def read_property(
        self, prop: Any, place: str, entity_name: str, contract: ParsedContract
    ) -> ParsedAttribute:
        if not isinstance(prop, dict):
            self.fail(place, "expected a property (a mapping).")
        name = self.name_of(prop, place)
        modelled = {
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
        extra: dict[str, Any] = {}
        custom = []
        for key, value in prop.items():
            if key in ODCS_PROPERTY_KEYS and key not in modelled:
                extra[key] = value
            elif key not in ODCS_PROPERTY_KEYS:
                custom.append({"property": key, "value": value})

        logical_type = prop.get("logicalType") or ""
        if logical_type and logical_type not in LogicalType.values:
            self.fail(
                f"{place}.logicalType",
                f"unknown logical type '{logical_type}'; expected one of "
                f"{', '.join(LogicalType.values)}.",
            )
        physical_type = self.text(prop, "physicalType", place)
        length, precision, scale = parse_physical_type(physical_type)
        primary_key = self.flag(prop, "primaryKey", place)
        pk_position = prop.get("primaryKeyPosition")
        if pk_position is not None and (
            isinstance(pk_position, bool) or not isinstance(pk_position, int)
        ):
            self.fail(f"{place}.primaryKeyPosition", "expected a whole number.")
        if pk_position is not None and pk_position < 1:
            pk_position = None
        if pk_position is not None and not primary_key:
            self.fail(f"{place}.primaryKeyPosition", "is set but primaryKey is not true.")

        fields: dict[str, Any] = {
            "name": name,
            "physical_name": self.text(prop, "physicalName", place),
            "business_name": self.text(prop, "businessName", place),
            "description": self.text(prop, "description", place),
            "logical_type": logical_type,
            "physical_type": physical_type,
            "length": length,
            "precision": precision,
            "scale": scale,
            "required": self.flag(prop, "required", place),
            "unique": self.flag(prop, "unique", place),
            "primary_key": primary_key,
            "primary_key_position": pk_position,
            "classification": self.text(prop, "classification", place),
            "examples": self.list_of(prop, "examples", place),
            "allowed_values": [],
            "max_length": None,
            "format": "",
            "pattern": "",
            "minimum": None,
            "maximum": None,
            "canonical_meaning": "",
        }

        options = prop.get("logicalTypeOptions") or {}
        if not isinstance(options, dict):
            self.fail(f"{place}.logicalTypeOptions", "expected a mapping.")
        rest_options = {}
        for key, value in options.items():
            if key == "maxLength":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    self.fail(f"{place}.logicalTypeOptions.maxLength", "expected a whole number.")
                fields["max_length"] = value
            elif key in ("pattern", "format"):
                fields[key] = str(value)
            elif key in LOGICAL_TYPE_BOUNDS:
                fields[key] = value
            else:
                rest_options[key] = value
        if rest_options:
            extra["logicalTypeOptions"] = rest_options

        other_quality = []
        found_valid_values = False
        for index, rule in enumerate(self.list_of(prop, "quality", place)):
            metric = rule.get("metric") or rule.get("rule") if isinstance(rule, dict) else None
            arguments = rule.get("arguments") if isinstance(rule, dict) else None
            if (
                metric == "invalidValues"
                and isinstance(arguments, dict)
                and "validValues" in arguments
                and not found_valid_values
            ):
                found_valid_values = True
                values = arguments["validValues"]
                if not isinstance(values, list):
                    self.fail(f"{place}.quality[{index}].arguments.validValues", "expected a list.")
                fields["allowed_values"] = values
                rest = {
                    k: v
                    for k, v in rule.items()
                    if k not in {"type", "metric", "rule", "arguments", "mustBe"}
                }
                rest_arguments = {k: v for k, v in arguments.items() if k != "validValues"}
                if rest_arguments:
                    rest["arguments"] = rest_arguments
                if rest:
                    extra["validValuesRule"] = rest
            else:
                other_quality.append(rule)
        if other_quality:
            extra["quality"] = other_quality

        for index, item in enumerate(self.list_of(prop, "customProperties", place)):
            if not isinstance(item, dict) or "property" not in item:
                self.fail(f"{place}.customProperties[{index}]", "expected property and value.")
            if item["property"] == CANONICAL_MEANING:
                fields["canonical_meaning"] = str(item.get("value") or "")
            else:
                custom.insert(len(custom), item)
        _add_custom(extra, custom)
        fields["extra"] = extra

        for index, rel in enumerate(self.list_of(prop, "relationships", place)):
            rel_place = f"{place}.relationships[{index}]"
            if not isinstance(rel, dict):
                self.fail(rel_place, "expected a relationship (a mapping with to).")
            self.check_relationship_type(rel, rel_place)
            if "to" not in rel:
                self.fail(f"{rel_place}.to", "missing required key.")
            if "from" in rel:
                self.fail(f"{rel_place}.from", "not allowed on a property (it is the property).")
            targets = rel["to"] if isinstance(rel["to"], list) else [rel["to"]]
            rel_extra = {k: v for k, v in rel.items() if k not in {"type", "to"}}
            for i, target in enumerate(targets):
                suffix = f"[{i}]" if isinstance(rel["to"], list) else ""
                to_entity, to_attr = self.reference(target, f"{rel_place}.to{suffix}")
                contract.relationships.append(
                    ParsedRelationship(
                        entity_name,
                        name,
                        to_entity,
                        to_attr,
                        False,
                        rel_extra,
                        f"{rel_place}.to{suffix}",
                    )
                )
        return ParsedAttribute(fields, place)

    # small readers --------------------------------------------------------------------------

    def name_of(self, obj: dict, place: str) -> str:
        name = obj.get("name")
        if name in (None, ""):
            self.fail(f"{place}.name", "missing required key.")
        if not isinstance(name, str):
            self.fail(f"{place}.name", "expected text.")
        if len(name) > 200:
            self.fail(f"{place}.name", "longer than 200 characters.")
        return name

    def text(self, obj: dict, key: str, place: str) -> str:
        value = obj.get(key)
        if value is None:
            return ""
        if isinstance(value, dict | list):
            self.fail(f"{place}.{key}", "expected text.")
        return str(value)

    def flag(self, obj: dict, key: str, place: str) -> bool:
        value = obj.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(f"{place}.{key}", f"expected true or false, found '{value}'.")
        return value

    def list_of(self, obj: dict, key: str, place: str) -> list:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"{place}.{key}", "expected a list.")
        return value

    def check_relationship_type(self, rel: dict, place: str) -> None:
        kind = rel.get("type", "foreignKey")
        if kind != "foreignKey":
            self.fail(
                f"{place}.type", f"unsupported relationship type '{kind}'; expected foreignKey."
            )

    def reference(self, value: Any, place: str) -> tuple[str, str]:
        match = _REFERENCE.match(value) if isinstance(value, str) else None
        if not match:
            self.fail(place, f"expected 'entity.attribute', found '{value}'.")
        return match.group(1), match.group(2)


def _add_custom(extra: dict, custom: list) -> None:
    if custom:
        extra["customProperties"] = list(extra.get("customProperties") or []) + custom


def parse_physical_type(physical_type: str) -> tuple[int | None, int | None, int | None]:
    """(length, precision, scale) of e.g. VARCHAR(100) or DECIMAL(12,2)."""
    match = _TYPE_SIZE.match(physical_type or "")
    if not match or match.group(2) is None:
        return None, None, None
    base, first, second = match.group(1).lower(), int(match.group(2)), match.group(3)
    if base in _NUMERIC_BASES or second is not None:
        return None, first, int(second) if second is not None else None
    return first, None, None


def logical_type_of(physical_type: str) -> str | None:
    match = _TYPE_SIZE.match(physical_type or "")
    if not match:
        return None
    return PHYSICAL_TO_LOGICAL.get(match.group(1).lower().strip())


# --- spreadsheet ---------------------------------------------------------------------------------

_YES = {"y", "yes", "true", "1", "x", "mandatory", "required"}
_NO = {"", "n", "no", "false", "0", "optional"}


class SpreadsheetReader:
    """One row per attribute, header exactly SPREADSHEET_HEADER (case and spacing forgiven)."""

    def __init__(self, file_name: str, fmt: str):
        self.file_name = file_name
        self.fmt = fmt
        self.sheet = ""

    def fail(self, row: int, column: int | None, message: str):
        place = f"sheet '{self.sheet}', " if self.sheet else ""
        place += f"row {row}"
        if column is not None:
            place += f", column {chr(ord('A') + column)} ({SPREADSHEET_HEADER[column]})"
        raise ContractFileError(self.file_name, place, message)

    def rows(self, content: bytes) -> list[list[str]]:
        if self.fmt == SourceFormat.CSV:
            try:
                text = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ContractFileError(self.file_name, "", "the file is not UTF-8 text.") from None
            sample = text[:4096]
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise ContractFileError(self.file_name, "", "not a readable .xlsx workbook.") from None
        sheet = book.worksheets[0]
        self.sheet = sheet.title
        rows = [
            ["" if cell is None else str(cell).strip() for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        book.close()
        return rows

    def read(self, content: bytes) -> ParsedContract:
        rows = self.rows(content)
        if not rows:
            raise ContractFileError(self.file_name, "", "the file is empty.")
        header = [c for c in rows[0]]
        while header and not header[-1]:
            header.pop()
        if [h.lower() for h in header] != [h.lower() for h in SPREADSHEET_HEADER]:
            self.fail(
                1,
                None,
                "wrong header; expected exactly: " + " | ".join(SPREADSHEET_HEADER) + ".",
            )
        stem = PurePath(self.file_name).stem
        contract = ParsedContract(
            name=stem, version="", contract_id=stem, description="", source_format=self.fmt
        )
        entities: dict[str, ParsedEntity] = {}
        pk_positions: dict[tuple[str, int], str] = {}
        for number, raw in enumerate(rows[1:], start=2):
            row = (raw + [""] * len(SPREADSHEET_HEADER))[: len(SPREADSHEET_HEADER)]
            if not any(row):
                continue
            entity_name, attr_name, data_type = row[0], row[1], row[2]
            for column, value in enumerate(row[:3]):
                if not value:
                    self.fail(number, column, "missing value.")
            entity = entities.get(entity_name)
            if entity is None:
                entity = ParsedEntity(
                    {
                        "name": entity_name,
                        "physical_name": "",
                        "business_name": "",
                        "description": "",
                        "grain": "",
                        "extra": {},
                    },
                    [],
                    f"row {number}",
                )
                entities[entity_name] = entity
                contract.entities.append(entity)
            if any(a.fields["name"] == attr_name for a in entity.attributes):
                self.fail(
                    number, 1, f"duplicate attribute '{attr_name}' in entity '{entity_name}'."
                )
            if data_type.lower() in LogicalType.values:
                logical_type, physical_type = data_type.lower(), ""
            else:
                logical_type, physical_type = logical_type_of(data_type), data_type
                if logical_type is None:
                    self.fail(
                        number,
                        2,
                        f"unknown data type '{data_type}'; use a logical type "
                        f"({', '.join(LogicalType.values)}) or a SQL type such as VARCHAR(100).",
                    )
            length, precision, scale = parse_physical_type(physical_type)
            primary_key, pk_position = self.key(row[4], number)
            if primary_key:
                if pk_position is None:
                    pk_position = 1 + sum(1 for a in entity.attributes if a.fields["primary_key"])
                if (entity_name, pk_position) in pk_positions:
                    self.fail(
                        number,
                        4,
                        f"primary key position {pk_position} is already taken by "
                        f"'{pk_positions[(entity_name, pk_position)]}'.",
                    )
                pk_positions[(entity_name, pk_position)] = attr_name
            allowed = row[6]
            separator = "|" if "|" in allowed else "\n" if "\n" in allowed else ","
            allowed_values = [v.strip() for v in allowed.split(separator) if v.strip()]
            entity.attributes.append(
                ParsedAttribute(
                    {
                        "name": attr_name,
                        "physical_name": "",
                        "business_name": "",
                        "description": row[9],
                        "logical_type": logical_type,
                        "physical_type": physical_type,
                        "length": length,
                        "precision": precision,
                        "scale": scale,
                        "required": self.yes_no(row[3], number, 3),
                        "unique": self.yes_no(row[5], number, 5),
                        "primary_key": primary_key,
                        "primary_key_position": pk_position,
                        "classification": "",
                        "examples": [],
                        "allowed_values": allowed_values,
                        "max_length": None,
                        "format": "",
                        "pattern": "",
                        "minimum": None,
                        "maximum": None,
                        "canonical_meaning": row[8],
                        "extra": {},
                    },
                    f"row {number}",
                )
            )
            if row[7]:
                match = _REFERENCE.match(row[7])
                if not match:
                    self.fail(number, 7, f"expected 'entity.attribute', found '{row[7]}'.")
                contract.relationships.append(
                    ParsedRelationship(
                        entity_name,
                        attr_name,
                        match.group(1),
                        match.group(2),
                        False,
                        {},
                        self._place(number, 7),
                    )
                )
        if not contract.entities:
            self.fail(2, None, "no attribute rows under the header.")
        return contract

    def _place(self, row: int, column: int) -> str:
        place = f"sheet '{self.sheet}', " if self.sheet else ""
        return f"{place}row {row}, column {chr(ord('A') + column)} ({SPREADSHEET_HEADER[column]})"

    def yes_no(self, value: str, row: int, column: int) -> bool:
        if value.lower() in _YES:
            return True
        if value.lower() in _NO:
            return False
        self.fail(row, column, f"expected Y or N, found '{value}'.")
        return False

    def key(self, value: str, row: int) -> tuple[bool, int | None]:
        if value.isdigit() and int(value) >= 1:
            return True, int(value)
        return self.yes_no(value, row, 4), None
