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
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .importers import CANONICAL_MEANING
from .models import InterfaceAttribute, InterfaceLayer, InterfaceRelationship

ODCS_API_VERSION = "v3.1.0"
TRANSFORM_SOURCE = "transformSource"
TRANSFORM_SOURCE_DESCRIPTION = (
    "The rows each property's transformLogic reads: the driving table and its alias, the joins "
    "and the filter, and sourceQuery, all of them as one SELECT in the same dialect."
)
# SQLAlchemy backends → the ODCS server type, and the schema tables land in by default.
SERVER_TYPES = {"duckdb": ("duckdb", "main"), "postgresql": ("postgres", "public")}


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order written, long text kept readable."""


def _str_representer(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def layer_to_odcs(
    layer: InterfaceLayer,
    *,
    transforms: dict | None = None,
    sources: dict | None = None,
    server: dict | None = None,
) -> dict[str, Any]:
    """The ODCS v3.1 document of `layer` (a constant number of queries).

    `transforms` ({(entity, attribute): {"transformSourceObjects", "transformLogic",
    "transformDescription"}}, from the mapping) adds each property's lineage; `sources`
    ({entity: {"dialect", "drivingTable", "alias", "joins", "filter", "sourceQuery"}}) adds the
    rows those transformLogic expressions read, as the object's `transformSource` custom property,
    so that every alias they use resolves; `server` (see `server_from_url`) adds or replaces a
    server where the interface tables are loaded.
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
    if server is not None:
        others = [s for s in document.get("servers") or [] if s.get("server") != server["server"]]
        document["servers"] = [*others, server]

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
        entity_source = (sources or {}).get(entity.name)
        if entity_source:
            obj["customProperties"] = [
                *(obj.get("customProperties") or []),
                {
                    "property": TRANSFORM_SOURCE,
                    "value": entity_source,
                    "description": TRANSFORM_SOURCE_DESCRIPTION,
                },
            ]
        schema.append(obj)
    document["schema"] = schema
    if custom:
        document["customProperties"] = custom
    return document


class ServerUrlError(ValueError):
    """A --server URL the export cannot describe as an ODCS server."""


def server_from_url(url: str, *, name: str = "interface", schema: str | None = None) -> dict:
    """An ODCS `servers` entry for the database at a SQLAlchemy URL (DuckDB or PostgreSQL), with
    no credentials: contract tools take them from their own environment variables."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ServerUrlError(f"'{url}' is not a database URL.") from None
    backend = parsed.get_backend_name()
    if backend not in SERVER_TYPES:
        raise ServerUrlError(
            f"a {backend} server cannot be described; use a {' or '.join(SERVER_TYPES)} URL."
        )
    kind, default_schema = SERVER_TYPES[backend]
    if not parsed.database:
        raise ServerUrlError(f"the URL names no database: {parsed.render_as_string()}.")
    entry: dict[str, Any] = {"server": name, "type": kind}
    if kind == "postgres":
        entry.update({"host": parsed.host or "localhost", "port": parsed.port or 5432})
    entry.update({"database": parsed.database, "schema": schema or default_schema})
    return entry


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


def layer_to_yaml(
    layer: InterfaceLayer,
    *,
    transforms: dict | None = None,
    sources: dict | None = None,
    server: dict | None = None,
) -> str:
    return yaml.dump(
        layer_to_odcs(layer, transforms=transforms, sources=sources, server=server),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
