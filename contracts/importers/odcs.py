"""Reading an ODCS v3 data contract (YAML or JSON) into records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

import yaml

from ..choices import SourceFormat
from .data_types import LOGICAL_TYPES, parse_physical_type
from .errors import ContractFileError
from .fast_yaml import YamlLimitError, load_yaml
from .records import (
    AttributeRecord,
    EntityRecord,
    JsonValue,
    ParsedContract,
    RelationshipRecord,
    split_reference,
)

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


# Keys of a schema object and of a property that are read into record fields (the other known
# keys are kept in `extra`).
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
_CONTRACT_MODELLED = {"apiVersion", "kind", "id", "name", "version", "schema"}

Json = dict[str, Any]  # a mapping read from the document
CustomProperty = dict[str, Any]  # {"property": key, "value": value}


@dataclass(frozen=True, slots=True)
class TypeOptions:
    """The `logicalTypeOptions` we model; the others are kept in `extra`."""

    max_length: int | None = None
    format: str = ""
    pattern: str = ""
    minimum: JsonValue = None
    maximum: JsonValue = None


class OdcsReader:
    """Reads a loaded ODCS document; each refusal names the path of the first problem."""

    def __init__(self, file_name: str, fmt: str) -> None:
        self.file_name = file_name
        self.fmt = fmt
        # In file order, whether declared on a property or on a schema object.
        self.relationships: list[RelationshipRecord] = []

    def fail(self, place: str, message: str) -> NoReturn:
        raise ContractFileError(self.file_name, place, message)

    def read(self, document: Any) -> ParsedContract:
        if not isinstance(document, dict):
            self.fail("", "expected an ODCS data contract (a mapping at the top level).")
        self.check_header(document)
        schema = document.get("schema")
        if not isinstance(schema, list) or not schema:
            self.fail("schema", "missing required key (a list of schema objects).")
        description, extra = self.contract_description_and_extra(document)
        self.relationships = []
        entities = self.read_schema(schema)  # fills self.relationships
        return ParsedContract(
            name=str(document.get("name") or document["id"]),
            version=str(document["version"]),
            contract_id=str(document["id"]),
            description=description,
            source_format=self.fmt,
            extra=extra,
            entities=tuple(entities),
            relationships=tuple(self.relationships),
        )

    def check_header(self, document: Json) -> None:
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

    @staticmethod
    def contract_description_and_extra(document: Json) -> tuple[str, Json]:
        """The description's purpose, and every other top-level key kept for the export."""
        extra: Json = {}
        custom: list[CustomProperty] = []
        description = ""
        for key, value in document.items():
            if key in _CONTRACT_MODELLED:
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
        return description, extra

    def read_schema(self, schema: list[Any]) -> list[EntityRecord]:
        entities = []
        seen: dict[str, int] = {}
        for index, obj in enumerate(schema):
            place = f"schema[{index}]"
            entity = self.read_object(obj, place)
            if entity.name in seen:
                self.fail(
                    f"{place}.name",
                    f"duplicate entity name '{entity.name}' "
                    f"(already at schema[{seen[entity.name]}]).",
                )
            seen[entity.name] = index
            entities.append(entity)
        return entities

    def read_object(self, obj: Any, place: str) -> EntityRecord:
        if not isinstance(obj, dict):
            self.fail(place, "expected a schema object (a mapping).")
        name = self.name_of(obj, place)
        extra, custom = _kept_and_custom(obj, known=ODCS_OBJECT_KEYS, modelled=_OBJECT_MODELLED)
        _add_custom(extra, custom)
        physical_name = self.text(obj, "physicalName", place)
        business_name = self.text(obj, "businessName", place)
        description = self.text(obj, "description", place)
        grain = self.text(obj, "dataGranularityDescription", place)
        properties = obj.get("properties")
        if not isinstance(properties, list) or not properties:
            self.fail(f"{place}.properties", "missing required key (a list of properties).")
        attributes = self.read_properties(properties, place, name)
        self.read_object_relationships(obj, place)
        return EntityRecord(
            name=name,
            physical_name=physical_name,
            business_name=business_name,
            description=description,
            grain=grain,
            extra=extra,
            attributes=tuple(attributes),
            place=place,
        )

    def read_properties(
        self, properties: list[Any], place: str, entity_name: str
    ) -> list[AttributeRecord]:
        attributes = []
        seen: dict[str, int] = {}
        pk_positions: dict[int, str] = {}
        for index, prop in enumerate(properties):
            prop_place = f"{place}.properties[{index}]"
            attribute = self.read_property(prop, prop_place, entity_name)
            if attribute.name in seen:
                self.fail(
                    f"{prop_place}.name",
                    f"duplicate attribute name '{attribute.name}' in entity '{entity_name}' "
                    f"(already at {place}.properties[{seen[attribute.name]}]).",
                )
            seen[attribute.name] = index
            position = attribute.primary_key_position
            if position is not None:
                if position in pk_positions:
                    self.fail(
                        f"{prop_place}.primaryKeyPosition",
                        f"primary key position {position} is already taken by "
                        f"'{pk_positions[position]}'.",
                    )
                pk_positions[position] = attribute.name
            attributes.append(attribute)
        return attributes

    def read_object_relationships(self, obj: Json, place: str) -> None:
        """Relationships declared on the schema object: `from` and `to`, single or lists."""
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
                self.relationships.append(
                    RelationshipRecord(
                        from_entity=from_entity,
                        from_attribute=from_attr,
                        to_entity=to_entity,
                        to_attribute=to_attr,
                        on_schema=True,
                        extra=rel_extra,
                        place=f"{rel_place}.from{suffix}",
                    )
                )

    def read_property(self, prop: Any, place: str, entity_name: str) -> AttributeRecord:
        # The reads below run in this order so that the first problem in the file is the one named.
        if not isinstance(prop, dict):
            self.fail(place, "expected a property (a mapping).")
        name = self.name_of(prop, place)
        extra, custom = _kept_and_custom(
            prop, known=ODCS_PROPERTY_KEYS, modelled=_PROPERTY_MODELLED
        )
        logical_type = self.logical_type(prop, place)
        physical_type = self.text(prop, "physicalType", place)
        length, precision, scale = parse_physical_type(physical_type)
        primary_key = self.flag(prop, "primaryKey", place)
        pk_position = self.primary_key_position(prop, place, primary_key=primary_key)
        physical_name = self.text(prop, "physicalName", place)
        business_name = self.text(prop, "businessName", place)
        description = self.text(prop, "description", place)
        required = self.flag(prop, "required", place)
        unique = self.flag(prop, "unique", place)
        classification = self.text(prop, "classification", place)
        examples = self.list_of(prop, "examples", place)
        options, rest_options = self.type_options(prop, place)
        if rest_options:
            extra["logicalTypeOptions"] = rest_options
        allowed_values, kept_quality = self.allowed_values(prop, place)
        extra.update(kept_quality)
        canonical_meaning = self.custom_properties(prop, place, custom)
        _add_custom(extra, custom)
        self.read_property_relationships(prop, place, entity_name, name)
        return AttributeRecord(
            name=name,
            physical_name=physical_name,
            business_name=business_name,
            description=description,
            logical_type=logical_type,
            physical_type=physical_type,
            length=length,
            precision=precision,
            scale=scale,
            required=required,
            unique=unique,
            primary_key=primary_key,
            primary_key_position=pk_position,
            classification=classification,
            examples=examples,
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

    def logical_type(self, prop: Json, place: str) -> str:
        logical_type = prop.get("logicalType") or ""
        if logical_type and logical_type not in LOGICAL_TYPES:
            self.fail(
                f"{place}.logicalType",
                f"unknown logical type '{logical_type}'; expected one of "
                f"{', '.join(LOGICAL_TYPES)}.",
            )
        return logical_type

    def primary_key_position(self, prop: Json, place: str, *, primary_key: bool) -> int | None:
        position = prop.get("primaryKeyPosition")
        if position is not None and (isinstance(position, bool) or not isinstance(position, int)):
            self.fail(f"{place}.primaryKeyPosition", "expected a whole number.")
        if position is not None and position < 1:
            position = None  # ODCS writes -1 for "not part of the key"
        if position is not None and not primary_key:
            self.fail(f"{place}.primaryKeyPosition", "is set but primaryKey is not true.")
        return position

    def type_options(self, prop: Json, place: str) -> tuple[TypeOptions, Json]:
        """The modelled `logicalTypeOptions`, and the rest as written."""
        options = prop.get("logicalTypeOptions") or {}
        if not isinstance(options, dict):
            self.fail(f"{place}.logicalTypeOptions", "expected a mapping.")
        modelled: dict[str, Any] = {}
        rest: Json = {}
        for key, value in options.items():
            if key == "maxLength":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    self.fail(f"{place}.logicalTypeOptions.maxLength", "expected a whole number.")
                modelled["max_length"] = value
            elif key in ("pattern", "format"):
                modelled[key] = str(value)
            elif key in LOGICAL_TYPE_BOUNDS:
                modelled[key] = value
            else:
                rest[key] = value
        return TypeOptions(**modelled), rest

    def allowed_values(self, prop: Json, place: str) -> tuple[list[JsonValue], Json]:
        """The first `invalidValues` rule's validValues, and what is kept of the quality rules."""
        allowed_values: list[JsonValue] = []
        kept: Json = {}
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
                allowed_values = values
                rest = {
                    k: v
                    for k, v in rule.items()
                    if k not in {"type", "metric", "rule", "arguments", "mustBe"}
                }
                rest_arguments = {k: v for k, v in arguments.items() if k != "validValues"}
                if rest_arguments:
                    rest["arguments"] = rest_arguments
                if rest:
                    kept["validValuesRule"] = rest
            else:
                other_quality.append(rule)
        if other_quality:
            kept["quality"] = other_quality
        return allowed_values, kept

    def custom_properties(self, prop: Json, place: str, custom: list[CustomProperty]) -> str:
        """The canonical meaning; the other custom properties are appended to `custom`."""
        canonical_meaning = ""
        for index, item in enumerate(self.list_of(prop, "customProperties", place)):
            if not isinstance(item, dict) or "property" not in item:
                self.fail(f"{place}.customProperties[{index}]", "expected property and value.")
            if item["property"] == CANONICAL_MEANING:
                canonical_meaning = str(item.get("value") or "")
            else:
                custom.append(item)
        return canonical_meaning

    def read_property_relationships(
        self, prop: Json, place: str, entity_name: str, attribute_name: str
    ) -> None:
        """Relationships declared on a property: the property is the `from`, `to` one or a list."""
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
                self.relationships.append(
                    RelationshipRecord(
                        from_entity=entity_name,
                        from_attribute=attribute_name,
                        to_entity=to_entity,
                        to_attribute=to_attr,
                        on_schema=False,
                        extra=rel_extra,
                        place=f"{rel_place}.to{suffix}",
                    )
                )

    # small readers --------------------------------------------------------------------------

    def name_of(self, obj: Json, place: str) -> str:
        name = obj.get("name")
        if name in (None, ""):
            self.fail(f"{place}.name", "missing required key.")
        if not isinstance(name, str):
            self.fail(f"{place}.name", "expected text.")
        if len(name) > 200:
            self.fail(f"{place}.name", "longer than 200 characters.")
        return name

    def text(self, obj: Json, key: str, place: str) -> str:
        value = obj.get(key)
        if value is None:
            return ""
        if isinstance(value, dict | list):
            self.fail(f"{place}.{key}", "expected text.")
        return str(value)

    def flag(self, obj: Json, key: str, place: str) -> bool:
        value = obj.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(f"{place}.{key}", f"expected true or false, found '{value}'.")
        return value

    def list_of(self, obj: Json, key: str, place: str) -> list[Any]:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"{place}.{key}", "expected a list.")
        return value

    def check_relationship_type(self, rel: Json, place: str) -> None:
        kind = rel.get("type", "foreignKey")
        if kind != "foreignKey":
            self.fail(
                f"{place}.type", f"unsupported relationship type '{kind}'; expected foreignKey."
            )

    def reference(self, value: Any, place: str) -> tuple[str, str]:
        reference = split_reference(value)
        if reference is None:
            self.fail(place, f"expected 'entity.attribute', found '{value}'.")
        return reference


def _kept_and_custom(
    obj: Json, *, known: set[str], modelled: set[str]
) -> tuple[Json, list[CustomProperty]]:
    """Known keys we do not model, kept as they are; unknown keys, as custom properties."""
    kept: Json = {}
    custom: list[CustomProperty] = []
    for key, value in obj.items():
        if key in known and key not in modelled:
            kept[key] = value
        elif key not in known:
            custom.append({"property": key, "value": value})
    return kept, custom


def _add_custom(extra: Json, custom: list[CustomProperty]) -> None:
    if custom:
        extra["customProperties"] = list(extra.get("customProperties") or []) + custom
