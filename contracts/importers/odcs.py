"""Reading an ODCS v3 data contract (YAML or JSON) into records."""

from __future__ import annotations

import json
from typing import Any

import yaml

from ..choices import LogicalType, SourceFormat
from .data_types import parse_physical_type
from .errors import ContractFileError
from .fast_yaml import load_yaml
from .records import REFERENCE, ParsedAttribute, ParsedContract, ParsedEntity, ParsedRelationship

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
    try:
        return load_yaml(text)
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
        match = REFERENCE.match(value) if isinstance(value, str) else None
        if not match:
            self.fail(place, f"expected 'entity.attribute', found '{value}'.")
        return match.group(1), match.group(2)


def _add_custom(extra: dict, custom: list) -> None:
    if custom:
        extra["customProperties"] = list(extra.get("customProperties") or []) + custom
