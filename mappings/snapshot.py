"""The specification's content, defined once: which mapping fields make up the spec, the
snapshot of an engagement's working mapping, its canonical JSON and content hash, and diffs.

Everyone who says "which version is this?" reads it: a sign-off freezes `spec_snapshot` into a
SpecVersion and binds its decision to `content_hash`; the workbook cover, the ETL manifest and the
test runs stamp the same hash, so an unchanged deliverable of an approved version carries exactly
the approved hash.

A field of EntityMapping/AttributeMapping is either spec content (listed below, so changing it
invalidates a sign-off) or in NOT_SPEC_CONTENT with the reason; a test keeps the two complete.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import sqlglot
from django.db.models import Count
from sqlglot import exp

from contracts.selectors import published_layer
from workbench.iterables import sorted_distinct
from workbench.models import Engagement

from .expressions import split_joins, table_lookup_name
from .models import AttributeMapping, EntityMapping

SNAPSHOT_FORMAT = 1

# What a person writes for an entity: its FROM clause, filter, schedule, load strategy, notes
# and status.
ENTITY_SPEC_FIELDS = (
    "driving_table",
    "driving_alias",
    "joins",
    "filter",
    "frequency",
    "load_strategy",
    "watermark",
    "delete_condition",
    "notes",
    "status",
)
# What a person writes for an attribute: the rule, its default, edge cases, notes and status.
ATTRIBUTE_AUTHORED_FIELDS = (
    "source_columns",
    "transformation",
    "default_value",
    "edge_cases",
    "notes",
    "status",
)
# Derived from the rule on every save, and part of the spec: the lineage the sign-off approved.
ATTRIBUTE_DERIVED_FIELDS = ("lineage", "lineage_tables")
ATTRIBUTE_SPEC_FIELDS = ATTRIBUTE_AUTHORED_FIELDS + ATTRIBUTE_DERIVED_FIELDS

# Concrete fields that are deliberately not spec content (changing them never invalidates a
# sign-off). A new field goes either here, with its reason, or into the lists above.
NOT_SPEC_CONTENT: dict[type, dict[str, str]] = {
    EntityMapping: {
        "id": "row identity",
        "engagement": "the snapshot is per engagement",
        "entity_name": "the snapshot's key",
        "feasibility": "the ETL Developer's opinion of the rule, not the rule",
        "feasibility_comment": "the ETL Developer's opinion of the rule, not the rule",
        "problems": "derived checks, recomputed against the catalog on every save",
        "row_version": "optimistic lock",
        "updated_by": "bookkeeping",
        "updated_at": "bookkeeping",
    },
    AttributeMapping: {
        "id": "row identity",
        "engagement": "the snapshot is per engagement",
        "entity_mapping": "the snapshot's key (its entity)",
        "attribute_name": "the snapshot's key",
        "inferred_type": "derived from the rule and the catalog's types",
        "problems": "derived warnings, recomputed on every save",
        "feasibility": "the ETL Developer's opinion of the rule, not the rule",
        "feasibility_comment": "the ETL Developer's opinion of the rule, not the rule",
        "sme_review": "the SME's review of the rule, not the rule",
        "row_version": "optimistic lock",
        "spec_hash": "the hash of the row's spec content, derived from it",
        "updated_by": "bookkeeping",
        "updated_at": "bookkeeping",
    },
}
ENTITY_LEVEL = ""  # the `attribute` of a change to the entity itself


# --- the snapshot ------------------------------------------------------------------------------


def _alias_tables(driving_table: str, alias: str, joins: str) -> dict[str, str]:
    """alias → table of an entity's FROM clause (best effort; the mapping checks report bad SQL)."""
    aliases = {alias.lower(): driving_table} if alias and driving_table else {}
    for piece in split_joins(joins or ""):
        try:
            join = sqlglot.parse_one(piece, into=exp.Join)
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
            continue
        target = join.this
        if target is not None and target.alias:
            name = table_lookup_name(target) if isinstance(target, exp.Table) else "(lookup)"
            aliases[target.alias.lower()] = name
    return aliases


def spec_snapshot(*, engagement: Engagement, entities: list[str] | None = None) -> dict:
    """The engagement's working mapping as a spec snapshot (all entities, or those named).

    {"format": 1, "contract": {"name", "version"} | None,
     "entities": {entity: {<ENTITY_SPEC_FIELDS>, "attributes": {attribute: {<ATTRIBUTE_SPEC_FIELDS>}}}},
     "catalog_columns": ["table.column", …]}  — the catalog columns the lineage uses.
    """
    head, parts = _read_snapshot(engagement=engagement, entities=entities)
    return {**head, "catalog_columns": list(head["catalog_columns"]), "entities": dict(parts)}


def snapshot_hash(*, engagement: Engagement) -> str:
    """content_hash(spec_snapshot(engagement=engagement)), computed as the parts stream past:
    the canonical JSON is written into the hash piece by piece, in the order its sorted keys
    give (catalog_columns, contract, entities by name, format). Memory holds the entities' own
    fields and a chunk of catalog column names or of attribute rows, not the spec."""
    head, parts = _read_snapshot(engagement=engagement)
    digest = hashlib.sha256()
    digest.update(b'{"catalog_columns":[')
    separator = ""
    for column in head["catalog_columns"]:
        digest.update(f"{separator}{canonical_json(column)}".encode())
        separator = ","
    digest.update(f'],"contract":{canonical_json(head["contract"])},"entities":{{'.encode())
    separator = ""
    for name, part in parts:
        digest.update(f"{separator}{canonical_json(name)}:{canonical_json(part)}".encode())
        separator = ","
    digest.update(f'}},"format":{head["format"]}}}'.encode())
    return digest.hexdigest()


# Attribute rows read per query while the entity parts are read, and catalog column names sorted
# in memory at a time (larger lists are sorted in runs spilled to disk): memory holds a chunk.
SNAPSHOT_CHUNK_ROWS = 5000


def _read_snapshot(
    *, engagement: Engagement, entities: list[str] | None = None
) -> tuple[dict, Iterator[tuple[str, dict]]]:
    """The one reader of the snapshot: its head (format, contract, and an iterator of the
    catalog columns the lineage uses, sorted) and an iterator of (entity, part) in name order.
    Both read a chunk of entities at a time, with their attribute rows. The catalog columns take
    a first pass over the lineage alone, so that a streamed hash can write them (its first key)
    before any part: read them first."""
    layer = published_layer(engagement=engagement)
    entity_rows = EntityMapping.objects.filter(engagement=engagement)
    attribute_rows = AttributeMapping.objects.filter(engagement=engagement)
    if entities is not None:
        entity_rows = entity_rows.filter(entity_name__in=entities)
        attribute_rows = attribute_rows.filter(entity_mapping__entity_name__in=entities)
    chunks = _entity_chunks(entity_rows)
    head = {
        "format": SNAPSHOT_FORMAT,
        "contract": {"name": layer.name, "version": layer.version} if layer else None,
        "catalog_columns": _catalog_columns(entity_rows, attribute_rows, chunks),
    }
    return head, _entity_parts(entity_rows, attribute_rows, chunks)


def _entity_chunks(entity_rows) -> list[list[int]]:
    """The entity mapping ids in name order, in runs whose entities hold about
    SNAPSHOT_CHUNK_ROWS attribute rows.

    Each entity's rows are counted through it (the database counts them entity by entity, from
    the index of a row's entity): grouping the engagement's rows by entity instead would sort
    them all first (SQLite in this process's memory, ~2 MB at 100,000 rows)."""
    chunks: list[list[int]] = [[]]
    rows = 0
    sized = entity_rows.order_by("entity_name").annotate(rows=Count("attributes"))
    for pk, size in sized.values_list("pk", "rows"):
        chunks[-1].append(pk)
        rows += size
        if rows >= SNAPSHOT_CHUNK_ROWS:
            chunks.append([])
            rows = 0
    return [chunk for chunk in chunks if chunk]


def _catalog_columns(entity_rows, attribute_rows, chunks: list[list[int]]) -> Iterator[str]:
    """The sorted, distinct "table.column" names the rows' lineage reads, through each entity's
    aliases."""
    return sorted_distinct(
        _lineage_columns(entity_rows, attribute_rows, chunks), run=SNAPSHOT_CHUNK_ROWS
    )


def _lineage_columns(entity_rows, attribute_rows, chunks: list[list[int]]) -> Iterator[str]:
    for chunk in chunks:
        aliases = {
            pk: _alias_tables(table, alias, joins)
            for pk, table, alias, joins in entity_rows.filter(pk__in=chunk).values_list(
                "pk", "driving_table", "driving_alias", "joins"
            )
        }
        lineage = attribute_rows.filter(entity_mapping_id__in=chunk).order_by()
        for entity_id, items in lineage.values_list("entity_mapping_id", "lineage"):
            alias_map = aliases[entity_id]
            for item in items or []:
                alias, _, column = str(item).partition(".")
                table = alias_map.get(alias.lower())
                if table and column:
                    yield f"{table}.{column}"


def _entity_parts(
    entity_rows, attribute_rows, chunks: list[list[int]]
) -> Iterator[tuple[str, dict]]:
    """(entity, part) in name order: its own fields and its attributes' spec content."""
    for chunk in chunks:
        own = {
            row["id"]: row
            for row in entity_rows.filter(pk__in=chunk).values(
                "id", "entity_name", *ENTITY_SPEC_FIELDS
            )
        }
        attributes: dict[int, dict[str, dict]] = {pk: {} for pk in chunk}
        rows = (
            attribute_rows.filter(entity_mapping_id__in=chunk)
            .order_by("entity_mapping_id", "id")
            .values("entity_mapping_id", "attribute_name", *ATTRIBUTE_SPEC_FIELDS)
        )
        for row in rows:
            attributes[row["entity_mapping_id"]][row["attribute_name"]] = attribute_fields(row)
        for pk in chunk:
            entity = own.pop(pk)
            yield entity["entity_name"], {**entity_fields(entity), "attributes": attributes.pop(pk)}


def entity_fields(row: dict) -> dict:
    """An entity's own spec content (without its attributes), from a row or a snapshot part."""
    return {field: row.get(field) for field in ENTITY_SPEC_FIELDS}


def attribute_fields(row: dict) -> dict:
    """An attribute's spec content, from a row or a snapshot part."""
    return {field: row.get(field) for field in ATTRIBUTE_SPEC_FIELDS}


def canonical_json(snapshot: object) -> str:
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(snapshot: dict) -> str:
    """SHA-256 (hex) of the snapshot's canonical JSON: sorted keys, no spaces, UTF-8."""
    return hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest()


# --- per-row hashes: "did this approved row change?" without rebuilding the snapshot -------------
#
# An attribute's hash covers its part of the snapshot; an entity's covers its whole part (its own
# fields and its attributes, through their hashes), so an entity whose hash is unchanged has no
# changed attribute. The mapping services store them (an attribute's on its row, an entity's in
# EntitySpecHash beside it); a spec version stores the ones of its frozen snapshot
# (signoff.models.SpecVersionEntity).


def attribute_hash(row: dict) -> str:
    """The hash of an attribute's spec content (a row's values or its snapshot part)."""
    return content_hash(attribute_fields(row))


def entity_hash(row: dict, attribute_hashes: dict[str, str]) -> str:
    """The hash of an entity's part of the snapshot: its own fields and, per attribute name,
    that attribute's hash."""
    return content_hash({**entity_fields(row), "attributes": attribute_hashes})


def part_hashes(part: dict) -> tuple[str, dict[str, str]]:
    """(entity hash, {attribute: hash}) of one entity's part of a snapshot."""
    attributes = {name: attribute_hash(data) for name, data in part["attributes"].items()}
    return entity_hash(part, attributes), attributes


def mapping_attribute_hash(mapping: AttributeMapping) -> str:
    """The hash an attribute mapping's current (possibly unsaved) values give."""
    return attribute_hash({field: getattr(mapping, field) for field in ATTRIBUTE_SPEC_FIELDS})


def entity_hashes(*, entity_ids: list[int]) -> dict[int, str]:
    """id → the entity hash the stored rows give now (two queries, reading only these
    entities' own fields and their attributes' stored hashes)."""
    attributes: dict[int, dict[str, str]] = {pk: {} for pk in entity_ids}
    for entity_id, name, spec_hash in AttributeMapping.objects.filter(
        entity_mapping_id__in=entity_ids
    ).values_list("entity_mapping_id", "attribute_name", "spec_hash"):
        attributes[entity_id][name] = spec_hash
    return {
        row["id"]: entity_hash(row, attributes[row["id"]])
        for row in EntityMapping.objects.filter(pk__in=entity_ids).values("id", *ENTITY_SPEC_FIELDS)
    }


def restrict_snapshot(snapshot: dict, entities: list[str] | None) -> dict:
    """The part of a snapshot about `entities` (all when None or empty)."""
    if not entities:
        return snapshot
    return {
        **snapshot,
        "entities": {k: v for k, v in snapshot["entities"].items() if k in entities},
    }


# --- diffs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    entity: str
    attribute: str  # "" for the entity itself
    field: str
    before: Any
    after: Any

    def as_dict(self) -> dict:
        return asdict(self)


def diff_snapshots(before: dict, after: dict) -> list[FieldChange]:
    """Field-by-field changes from `before` to `after` (entity, attribute, field, before, after).

    An entity or attribute that appears or disappears is one change of the field "mapping".
    """
    changes: list[FieldChange] = []
    if (before.get("contract") or None) != (after.get("contract") or None):
        changes.append(
            FieldChange("(contract)", "", "version", _contract(before), _contract(after))
        )
    old, new = before.get("entities", {}), after.get("entities", {})
    for name in sorted(set(old) | set(new)):
        if name not in new:
            changes.append(FieldChange(name, ENTITY_LEVEL, "mapping", "present", None))
        elif name not in old:
            changes.append(FieldChange(name, ENTITY_LEVEL, "mapping", None, "present"))
        else:
            changes += _entity_changes(name, old[name], new[name])
    return changes


def _entity_changes(name: str, a: dict, b: dict) -> list[FieldChange]:
    changes = [
        FieldChange(name, ENTITY_LEVEL, field, a.get(field), b.get(field))
        for field in ENTITY_SPEC_FIELDS
        if a.get(field) != b.get(field)
    ]
    old_attrs, new_attrs = a.get("attributes", {}), b.get("attributes", {})
    for attribute in sorted(set(old_attrs) | set(new_attrs)):
        if attribute not in new_attrs:
            changes.append(FieldChange(name, attribute, "mapping", "present", None))
        elif attribute not in old_attrs:
            changes.append(FieldChange(name, attribute, "mapping", None, "present"))
        else:
            x, y = old_attrs[attribute], new_attrs[attribute]
            changes += [
                FieldChange(name, attribute, field, x.get(field), y.get(field))
                for field in ATTRIBUTE_SPEC_FIELDS
                if x.get(field) != y.get(field)
            ]
    return changes


def _contract(snapshot: dict) -> str | None:
    contract = snapshot.get("contract")
    return f"{contract['name']} {contract['version']}" if contract else None
