"""Writing a contract version back as an ODCS v3.1 data contract (YAML).

The export is the inverse of `importers.odcs.OdcsReader`: modelled fields are written to their ODCS
keys and the kept keys (`extra`) are merged back as written. Quality rules and custom properties
kept as written are written back as they were; without them the canonical meaning is a custom
property `canonicalMeaning` and allowed values an `invalidValues` library rule. Relationships are
written where they were declared (property, schema object or both), keys of several columns as
lists, targets outside the contract as written. Importing the export gives an identical contract.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from django.db.models import Prefetch
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from workbench.memory import gc_paused

from .importers import allowed_values_rules, canonical_meaning_properties
from .importers.odcs import EXPORT_API_VERSION
from .models import InterfaceAttribute, InterfaceLayer, InterfaceRelationship

TRANSFORM_SOURCE = "transformSource"
TRANSFORM_SOURCE_DESCRIPTION = (
    "The rows each property's transformLogic reads: the driving table and its alias, the joins "
    "and the filter, and sourceQuery, all of them as one SELECT in the same dialect."
)
# SQLAlchemy backends → the ODCS server type, and the schema tables land in by default.
SERVER_TYPES = {"duckdb": ("duckdb", "main"), "postgresql": ("postgres", "public")}

try:  # libyaml when available
    from yaml import CSafeDumper as _FastSafeDumper
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _FastSafeDumper  # type: ignore[assignment]


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order written, long text kept readable."""


def _str_representer(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)

# Text libyaml's emitter writes differently from PyYAML's own: characters one of them escapes
# (beyond the Basic Multilingual Plane, NEL, controls, tabs, BOM), and what ends up double
# quoted (a space before a line break, a multi-line text ending in a space), whose line folding
# differs. Keys: libyaml counts a simple key's length in bytes, PyYAML in characters, and writes
# an empty one differently.
_LIBYAML_DIFFERS = re.compile(
    "[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]| \n|\n.* $", re.S
)
_LIBYAML_KEY_DIFFERS = re.compile("^$|\n|^(?![\x00-\x7f]*$).{40}", re.S)


class _PythonEmitterNeeded(Exception):
    """The document holds text the C emitter would write differently."""


class _CDumper(_FastSafeDumper):
    """`_Dumper` on libyaml's emitter (3x faster), for the documents it writes identically.

    A contract repeats most of its keys and many values: each text is checked once per dump."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._checked: set[str] = set()
        self._checked_keys: set[str] = set()

    def represent_str(self, data: str):
        if data not in self._checked:
            if _LIBYAML_DIFFERS.search(data):
                raise _PythonEmitterNeeded
            self._checked.add(data)
        return _str_representer(self, data)

    def represent_dict(self, data):
        for key in data:
            if isinstance(key, str) and key not in self._checked_keys:
                if _LIBYAML_KEY_DIFFERS.search(key):
                    raise _PythonEmitterNeeded
                self._checked_keys.add(key)
        return self.represent_mapping("tag:yaml.org,2002:map", data)


_CDumper.add_representer(str, _CDumper.represent_str)
_CDumper.add_representer(dict, _CDumper.represent_dict)


def dump_yaml(document: Any) -> str:
    """`document` as block-style YAML, keys in order, unicode as written: through libyaml when it
    writes the same text as PyYAML's pure-Python emitter would, through the latter otherwise."""
    options: dict[str, Any] = {
        "sort_keys": False,
        "allow_unicode": True,
        "default_flow_style": False,
        "width": 100,
    }
    try:
        return yaml.dump(document, Dumper=_CDumper, **options)
    except _PythonEmitterNeeded:
        return yaml.dump(document, Dumper=_Dumper, **options)


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
        "apiVersion": extra.pop("apiVersion", None) or EXPORT_API_VERSION,
        "kind": "DataContract",
        "id": layer.contract_id or layer.name,
        "version": layer.version,
        "status": extra.pop("status", None) or _odcs_status(layer),
    }
    if layer.name_in_file:
        document["name"] = layer.name
    description = _contract_description(layer, extra.pop("description", None))
    if description:
        document["description"] = description
    custom = extra.pop("customProperties", None)
    document.update(extra)
    if server is not None:
        others = [s for s in document.get("servers") or [] if s.get("server") != server["server"]]
        document["servers"] = [*others, server]

    on_property, on_schema = _relationships(layer)

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


def _contract_description(layer: InterfaceLayer, kept: dict | None) -> dict[str, Any]:
    """The description object as written; older imports kept it without its purpose."""
    description = dict(kept or {})
    if layer.description and "purpose" not in description:
        description = {"purpose": layer.description, **description}
    return description


def _relationships(
    layer: InterfaceLayer,
) -> tuple[dict[int, list[dict]], dict[int, list[dict]]]:
    """The relationship declarations of each property (by attribute id) and of each schema
    object (by entity id), in file order; the column pairs of one key join one declaration."""
    rows = (
        InterfaceRelationship.objects.filter(layer=layer)
        .select_related("from_attribute__entity", "to_attribute__entity")
        .order_by("pk")
    )
    on_property: dict[int, list[dict]] = {}
    on_schema: dict[int, list[dict]] = {}
    groups: dict[tuple[bool, int], dict] = {}
    for rel in rows:
        source = rel.from_reference or f"{rel.from_attribute.entity.name}.{rel.from_attribute.name}"
        as_list = rel.group is not None
        placements = [(rel.on_schema, rel.extra, as_list)]
        if rel.also_on_property:  # the property's own declaration joined it: one target, as written
            placements.append((False, rel.property_extra, False))
        for schema_level, extra, as_list in placements:
            if as_list and (schema_level, rel.group) in groups:
                item = groups[(schema_level, rel.group)]
                if schema_level:
                    item["from"].append(source)
                item["to"].append(rel.target)
                continue
            item = {"type": "foreignKey"}
            if schema_level:
                item["from"] = [source] if as_list else source
            item["to"] = [rel.target] if as_list else rel.target
            item.update(extra)
            if as_list:
                groups[(schema_level, rel.group)] = item
            if schema_level:
                on_schema.setdefault(rel.from_attribute.entity_id, []).append(item)
            else:
                on_property.setdefault(rel.from_attribute_id, []).append(item)
    return on_property, on_schema


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
    _put(prop, "quality", _quality(attribute, extra))
    custom = extra.pop("customProperties", None)
    if custom is None:
        custom = canonical_meaning_properties(attribute.canonical_meaning)
    prop.update(extra)
    for key, value in (transform or {}).items():
        _put(prop, key, value)
    _put(prop, "relationships", relationships)
    _put(prop, "customProperties", custom)
    return prop


def _quality(attribute: InterfaceAttribute, extra: dict) -> list[dict]:
    """The quality rules as written; allowed values without a rule of their own get one (and so
    do rows imported before the rules were kept whole, which held it in `validValuesRule`)."""
    quality = list(extra.pop("quality", None) or [])
    legacy = extra.pop("validValuesRule", None)
    has_rule = any(
        rule.get("metric") == "invalidValues" and "validValues" in (rule.get("arguments") or {})
        for rule in quality
    )
    if attribute.allowed_values and not has_rule and "enum" not in extra:  # an enum says them
        rule = allowed_values_rules(attribute.allowed_values)[0]
        legacy = dict(legacy or {})
        rule["arguments"].update(legacy.pop("arguments", {}))
        quality.insert(0, {**rule, **legacy})
    return quality


def layer_to_yaml(
    layer: InterfaceLayer,
    *,
    transforms: dict | None = None,
    sources: dict | None = None,
    server: dict | None = None,
) -> str:
    # the document of 20,000 attributes is ~400,000 dicts, lists and texts, none in a cycle
    with gc_paused():
        document = layer_to_odcs(layer, transforms=transforms, sources=sources, server=server)
    return dump_yaml(document)
