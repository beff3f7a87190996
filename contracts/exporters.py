"""Writing a contract version back as an ODCS v3.1 data contract (YAML).

The export is the inverse of `importers.odcs.OdcsReader`: modelled fields are written to their ODCS
keys, the kept keys (`extra`) are merged back, the canonical meaning is a custom property
`canonicalMeaning`, allowed values are an `invalidValues` library quality rule. Importing the
export gives an identical contract.
"""

from __future__ import annotations

from typing import Any

import yaml
from django.db.models import Prefetch

from .importers import CANONICAL_MEANING
from .models import InterfaceAttribute, InterfaceLayer, InterfaceRelationship

ODCS_API_VERSION = "v3.1.0"


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order written, long text kept readable."""


def _str_representer(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def layer_to_odcs(layer: InterfaceLayer, *, transforms: dict | None = None) -> dict[str, Any]:
    """The ODCS v3.1 document of `layer` (a constant number of queries).

    `transforms` ({(entity, attribute): {"transformSourceObjects", "transformLogic",
    "transformDescription"}}, from the mapping) adds each property's lineage.
    """
    extra = dict(layer.extra or {})
    document: dict[str, Any] = {
        "apiVersion": ODCS_API_VERSION,
        "kind": "DataContract",
        "id": layer.contract_id or layer.name,
        "name": layer.name,
        "version": layer.version,
        "status": extra.pop("status", None) or _odcs_status(layer),
    }
    extra.pop("apiVersion", None)
    description = dict(extra.pop("description", None) or {})
    if layer.description:
        description = {"purpose": layer.description, **description}
    if description:
        document["description"] = description
    custom = extra.pop("customProperties", None)
    document.update(extra)

    relationships = InterfaceRelationship.objects.filter(layer=layer).select_related(
        "from_attribute__entity", "to_attribute__entity"
    )
    on_property: dict[int, list[dict]] = {}
    on_schema: dict[int, list[dict]] = {}
    for rel in relationships.order_by("pk"):
        target = f"{rel.to_attribute.entity.name}.{rel.to_attribute.name}"
        if rel.on_schema:
            source = f"{rel.from_attribute.entity.name}.{rel.from_attribute.name}"
            item = {"type": "foreignKey", "from": source, "to": target, **rel.extra}
            on_schema.setdefault(rel.from_attribute.entity_id, []).append(item)
        else:
            item = {"type": "foreignKey", "to": target, **rel.extra}
            on_property.setdefault(rel.from_attribute_id, []).append(item)

    entities = layer.entities.order_by("position").prefetch_related(
        Prefetch("attributes", queryset=InterfaceAttribute.objects.order_by("position"))
    )
    schema = []
    for entity in entities:
        entity_extra = dict(entity.extra or {})
        obj: dict[str, Any] = {"name": entity.name}
        _put(obj, "physicalName", entity.physical_name)
        _put(obj, "businessName", entity.business_name)
        _put(obj, "description", entity.description)
        _put(obj, "dataGranularityDescription", entity.grain)
        obj.update(entity_extra)
        obj["properties"] = [
            _property(
                attribute,
                on_property.get(attribute.pk, []),
                (transforms or {}).get((entity.name, attribute.name), {}),
            )
            for attribute in entity.attributes.all()
        ]
        if entity.pk in on_schema:
            obj["relationships"] = on_schema[entity.pk]
        schema.append(obj)
    document["schema"] = schema
    if custom:
        document["customProperties"] = custom
    return document


def _odcs_status(layer: InterfaceLayer) -> str:
    return {"published": "active", "superseded": "deprecated"}.get(layer.status, "draft")


def _put(obj: dict, key: str, value) -> None:
    if value not in (None, "", [], {}):
        obj[key] = value


def _property(
    attribute: InterfaceAttribute, relationships: list[dict], transform: dict | None = None
) -> dict[str, Any]:
    extra = dict(attribute.extra or {})
    prop: dict[str, Any] = {"name": attribute.name}
    _put(prop, "physicalName", attribute.physical_name)
    _put(prop, "businessName", attribute.business_name)
    _put(prop, "description", attribute.description)
    _put(prop, "logicalType", attribute.logical_type)
    _put(prop, "physicalType", attribute.physical_type)
    options: dict[str, Any] = {}
    _put(options, "maxLength", attribute.max_length)
    _put(options, "pattern", attribute.pattern)
    _put(options, "format", attribute.format)
    _put(options, "minimum", attribute.minimum)
    _put(options, "maximum", attribute.maximum)
    options.update(extra.pop("logicalTypeOptions", None) or {})
    _put(prop, "logicalTypeOptions", options)
    prop["required"] = attribute.required
    if attribute.unique:
        prop["unique"] = True
    if attribute.primary_key:
        prop["primaryKey"] = True
        _put(prop, "primaryKeyPosition", attribute.primary_key_position)
    _put(prop, "classification", attribute.classification)
    _put(prop, "examples", attribute.examples)
    quality = []
    rule_rest = extra.pop("validValuesRule", None) or {}
    if attribute.allowed_values:
        rest_arguments = rule_rest.pop("arguments", {}) if rule_rest else {}
        quality.append(
            {
                "type": "library",
                "metric": "invalidValues",
                "arguments": {"validValues": attribute.allowed_values, **rest_arguments},
                "mustBe": 0,
                **rule_rest,
            }
        )
    quality.extend(extra.pop("quality", None) or [])
    _put(prop, "quality", quality)
    custom = []
    if attribute.canonical_meaning:
        custom.append({"property": CANONICAL_MEANING, "value": attribute.canonical_meaning})
    custom.extend(extra.pop("customProperties", None) or [])
    prop.update(extra)
    for key, value in (transform or {}).items():
        _put(prop, key, value)
    _put(prop, "relationships", relationships)
    _put(prop, "customProperties", custom)
    return prop


def layer_to_yaml(layer: InterfaceLayer, *, transforms: dict | None = None) -> str:
    return yaml.dump(
        layer_to_odcs(layer, transforms=transforms),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
