"""Reads for the Master Mapping Specification: everything the workbook, the GAP document and the KT
documentation print, in a fixed number of queries whatever the size of the mapping."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F

from catalog.models import CatalogColumn, CatalogTable
from contracts.models import InterfaceAttribute, InterfaceLayer
from contracts.selectors import published_layer
from mappings.load_order import LoadOrder
from mappings.models import AttributeMapping, EntityMapping
from mappings.selectors.mapping import contract_load_order, unmapped_contract_attributes
from mappings.snapshot import ATTRIBUTE_SPEC_FIELDS, ENTITY_SPEC_FIELDS
from workbench.iterables import AscendingIds, batched
from workbench.models import Engagement

# The workbook prints the whole spec content (mappings.snapshot) plus the review state around it.
ENTITY_VALUES = ("pk", "entity_name", *ENTITY_SPEC_FIELDS, "feasibility", "row_version")
ATTRIBUTE_VALUES = (
    "pk",
    "entity_mapping__entity_name",
    "attribute_name",
    *ATTRIBUTE_SPEC_FIELDS,
    "feasibility",
    "sme_review",
    "row_version",
)
CONTRACT_VALUES = (
    "entity__name",
    "name",
    "logical_type",
    "physical_type",
    "required",
    "canonical_meaning",
    "description",
)


# Contract rows read per query while the sheets are written: memory holds one chunk, not the spec.
CHUNK_ATTRIBUTES = 5000


@dataclass
class SpecData:
    engagement: Engagement
    layer: InterfaceLayer | None
    order: LoadOrder
    names: list[str]  # the entity mappings' names, in load order, every contract entity included
    sizes: dict[str, int] = field(default_factory=dict)  # contract attributes per entity
    # Contract rows with no mapping row saved yet, rendered with the model's defaults (pk None).
    unsaved: int = 0

    @property
    def contract_size(self) -> int:
        return sum(self.sizes.values())

    def entities(self) -> Iterator[dict]:
        """The entity mappings (ENTITY_VALUES) in load order, read a chunk at a time."""
        for chunk in self._chunks():
            yield from chunk

    def entity_rows(
        self,
        values: tuple[str, ...] = ATTRIBUTE_VALUES,
        contract_values: tuple[str, ...] = CONTRACT_VALUES,
    ) -> Iterator[tuple[dict, list[tuple[dict | None, dict]]]]:
        """Per entity in load order: its contract attributes (`contract_values`) in contract
        order, each with its mapping (`values`; the model's defaults when not saved yet), then the
        mappings the contract no longer has (attribute None). Read a chunk of entities at a
        time."""
        blank = _defaults(AttributeMapping, values)
        for chunk in self._chunks():
            names = [e["entity_name"] for e in chunk]
            contract: dict[str, list[dict]] = {}
            if self.layer is not None:
                for attribute in (
                    InterfaceAttribute.objects.of_entities(self.layer, names)
                    .order_by("entity__position", "position")
                    .values(*contract_values)
                ):
                    contract.setdefault(attribute["entity__name"], []).append(attribute)
            saved: dict[str, dict[str, dict]] = {}
            for mapping in (
                AttributeMapping.objects.filter(
                    engagement=self.engagement, entity_mapping__entity_name__in=names
                )
                .order_by("pk")
                .values(*values)
            ):
                saved.setdefault(mapping["entity_mapping__entity_name"], {})[
                    mapping["attribute_name"]
                ] = mapping
            for entity in chunk:
                name = entity["entity_name"]
                mappings = saved.pop(name, {})
                rows: list[tuple[dict | None, dict]] = []
                for attribute in contract.get(name, []):
                    mapping = mappings.pop(attribute["name"], None)
                    if mapping is None:
                        mapping = {**blank, "entity_mapping__entity_name": name}
                        mapping["attribute_name"] = attribute["name"]
                    rows.append((attribute, mapping))
                rows += [(None, mapping) for mapping in mappings.values()]
                yield entity, rows

    def mapping_rows(self) -> Iterator[tuple[dict, dict]]:
        """(contract attribute, its mapping) in load order, then contract order."""
        for _entity, rows in self.entity_rows():
            for attribute, mapping in rows:
                if attribute is not None:
                    yield attribute, mapping

    def _chunks(self) -> Iterator[list[dict]]:
        """The entity mappings in load order, about CHUNK_ATTRIBUTES contract rows at a time: an
        entity nobody prepared yet with the model's defaults."""
        for names in self._chunk_names():
            saved = {
                e["entity_name"]: e
                for e in EntityMapping.objects.filter(
                    engagement=self.engagement, entity_name__in=names
                ).values(*ENTITY_VALUES)
            }
            blank = _defaults(EntityMapping, ENTITY_VALUES)
            yield [saved.get(name) or {**blank, "entity_name": name} for name in names]

    def _chunk_names(self) -> Iterator[list[str]]:
        chunk: list[str] = []
        size = 0
        for name in self.names:
            chunk.append(name)
            size += max(self.sizes.get(name, 0), 1)
            if size >= CHUNK_ATTRIBUTES:
                yield chunk
                chunk, size = [], 0
        if chunk:
            yield chunk


def spec_data(*, engagement: Engagement) -> SpecData:
    """The published contract's shape and the entity mappings' names, in a handful of queries
    whatever the size; the entity and attribute rows are read chunk by chunk as a sheet is written
    (entities, entity_rows)."""
    layer = published_layer(engagement=engagement)
    order = contract_load_order(engagement=engagement)
    names = list(
        EntityMapping.objects.filter(engagement=engagement).values_list("entity_name", flat=True)
    )
    sizes: dict[str, int] = {}
    if layer is not None:
        # Counted per entity of the layer, which the database reads in name order from the
        # entity's key: grouping the layer's attributes by name would sort them all first (SQLite
        # in this process's memory, ~2 MB at 100,000 attributes).
        sizes = dict(
            InterfaceAttribute.objects.filter(entity__layer=layer)
            .order_by()
            .values_list("entity__name")
            .annotate(count=Count("pk"))
            .values_list("entity__name", "count")
        )
    data = SpecData(engagement, layer, order, names, sizes)
    _render_unsaved(data)
    return data


def _defaults(model, names: tuple[str, ...]) -> dict:
    fields = {f.name: f for f in model._meta.concrete_fields}
    return {"pk": None, **{name: fields[name].get_default() for name in names if name in fields}}


def _render_unsaved(data: SpecData) -> None:
    """Give every contract entity a row and count the contract rows nobody prepared yet: they
    show what `mapping_prepare` would save (the model's defaults), so the workbook lists the whole
    contract even for someone who may not write the mapping."""
    known = set(data.names)
    missing_entities = [name for name in data.sizes if name not in known]
    data.names += missing_entities
    data.names.sort(key=lambda name: (data.order.position(name) or 10_000, name))
    unsaved_attributes = 0
    if data.layer is not None:
        unsaved_attributes = unmapped_contract_attributes(
            engagement=data.engagement, layer=data.layer
        ).count()
    data.unsaved = len(missing_entities) + unsaved_attributes


def type_label(attribute: dict) -> str:
    return attribute["physical_type"] or attribute["logical_type"] or ""


# --- sign-off: what the Cover sheet lists ------------------------------------------------------


def spec_stamp(*, engagement: Engagement):
    """The Cover's spec version and content hash: signoff.selectors.SpecStamp, the same stamp the
    ETL manifest and the test runs carry."""
    from signoff.selectors import spec_stamp as signoff_spec_stamp

    return signoff_spec_stamp(engagement=engagement)


def signoff_rows(*, engagement: Engagement) -> list[dict]:
    """The sign-off table of the Cover, keyed by its header: every decision of every gate."""
    from signoff.models import Decision
    from signoff.selectors import signoff_table

    if not Decision.objects.filter(engagement=engagement).exists():
        return []  # (the table would build a snapshot of the whole mapping to say so)
    return [
        {
            "Gate": row["gate_label"],
            "Approver": row["approver"],
            "Role": row["role"],
            "Decision": f"{row['decision']} (version {row['version']})",
            "Date": row["date"],
            "Changed Since": "Yes — changed since approval" if row["changed_since"] else "",
        }
        for row in signoff_table(engagement=engagement)
    ]


def last_approved_at(*, engagement: Engagement):
    """When the mapping was last approved (the Change Log starts there), or None."""
    from signoff.choices import Gate, ReviewState, Verdict
    from signoff.models import Decision

    decision = (
        Decision.objects.filter(
            engagement=engagement,
            gate=Gate.MAPPING,
            verdict=Verdict.APPROVE,
            review__state=ReviewState.APPROVED,
        )
        .order_by("-decided_at")
        .first()
    )
    return decision.decided_at if decision else None


# --- the Source Catalog sheet --------------------------------------------------------------------


def used_catalog_columns(*, data: SpecData) -> list[dict]:
    return list(catalog_rows(data=data))


FEEDS_SHOWN = 10
# Catalog columns written per chunk: the attributes they feed are read for a chunk's tables only.
# At 5,000 a chunk (with the database driver's buffer of its rows, memory Python's own allocator
# cannot reuse) took the export ~2 MB above the Mapping sheet's peak; 1,000 stay below it, and are
# quicker to write.
CATALOG_CHUNK_COLUMNS = 1000
# Attribute mappings read per query while a chunk's "Used By" lists are gathered.
FEED_ROWS = 5000

_CATALOG_VALUES = (
    "table__schema",
    "table__name",
    "table__row_count",
    "name",
    "data_type",
    "nullable",
    "is_primary_key",
    "profile__null_percent",
    "profile__distinct_count",
    "profile__min_value",
    "profile__max_value",
)


def catalog_rows(*, data: SpecData) -> Iterator[dict]:
    """Catalog columns of the tables the mapping uses (driving tables, joins, lineage), with their
    key profile figures and the attributes they feed (the first FEEDS_SHOWN, in row order).

    Streamed a chunk of tables at a time: memory holds, besides one chunk of columns and their
    feeds, the tables each row reads as packed row ids (a byte or so a row), never a list per
    column of the whole catalog."""
    from mappings.selectors.mapping import referenced_tables

    names: set[str] = set()
    for driving_table, joins in (
        EntityMapping.objects.filter(engagement=data.engagement)
        .values_list("driving_table", "joins")
        .iterator()
    ):
        names |= referenced_tables(driving_table, joins)
    readers = _rows_reading(data.engagement)
    spellings: dict[str, list[str]] = {}  # lower-case table name -> the lineage's spellings of it
    for table in readers:
        spellings.setdefault(table.lower(), []).append(table)
    names |= set(spellings)
    for chunk in _catalog_columns(data.engagement, names):
        yield from _catalog_chunk(data.engagement, chunk, readers, spellings)


def _catalog_columns(engagement: Engagement, names: set[str]) -> Iterator[list[tuple]]:
    """The columns (_CATALOG_VALUES) of the catalog tables `names` names (lower-case
    `schema.table` or `table`) in the sheet's order, schema, table and position, about
    CATALOG_CHUNK_COLUMNS at a time, a table's columns (and those of a table of the same schema
    and name in another source) in one chunk.

    PostgreSQL sorts them and they come through a server-side cursor a chunk at a time. SQLite
    sorts in this process's memory, ~3 MB for the 100,000 columns of a large engagement: there the
    tables are listed first, in order, and each chunk's columns are read and sorted on their own."""
    plain = {n.rsplit(".", 1)[-1] for n in names if n}
    if connection.vendor == "sqlite":
        for tables in _table_chunks(engagement, names, plain):
            yield list(
                CatalogColumn.objects.filter(table_id__in=tables)
                .order_by("table__schema", "table__name", "position")
                .values_list(*_CATALOG_VALUES)
            )
        return
    columns = (
        CatalogColumn.objects.filter(engagement=engagement, table__name__in=plain)
        .order_by("table__schema", "table__name", "position")
        .values_list(*_CATALOG_VALUES)
    )
    chunk: list[tuple] = []
    for row in columns.iterator(chunk_size=CATALOG_CHUNK_COLUMNS):
        schema, name = row[0], row[1]
        if not _used(schema, name, names):
            continue
        if len(chunk) >= CATALOG_CHUNK_COLUMNS and (schema, name) != chunk[-1][:2]:
            yield chunk
            chunk = []
        chunk.append(row)
    if chunk:
        yield chunk


def _table_chunks(engagement: Engagement, names: set[str], plain: set[str]) -> Iterator[list[int]]:
    """The ids of the used catalog tables named `plain`, in order (schema, name), in runs of about
    CATALOG_CHUNK_COLUMNS columns; tables of one schema and name in one run."""
    tables = (
        CatalogTable.objects.filter(engagement=engagement, name__in=plain)
        .order_by("schema", "name")
        .annotate(size=Count("columns"))
        .values_list("pk", "schema", "name", "size")
    )
    chunk: list[int] = []
    columns = 0
    last = None
    for pk, schema, name, size in tables:
        if not _used(schema, name, names):
            continue
        if columns >= CATALOG_CHUNK_COLUMNS and (schema, name) != last:
            yield chunk
            chunk, columns = [], 0
        chunk.append(pk)
        columns += size
        last = (schema, name)
    if chunk:
        yield chunk


def _used(schema: str, name: str, names: set[str]) -> bool:
    """Whether the mapping uses the table: not the same name in a schema it does not use."""
    table = f"{schema}.{name}" if schema else name
    return table.lower() in names or name.lower() in names


def _rows_reading(engagement: Engagement) -> dict[str, AscendingIds]:
    """Each table the rules read, as the lineage spells it (not a lookup's own columns, "(…)"),
    → the ids of the attribute mappings reading it, ascending (a byte or so an id)."""
    readers: dict[str, AscendingIds] = {}
    rows = (
        AttributeMapping.objects.filter(engagement=engagement)
        .order_by("pk")
        .values_list("pk", "lineage_tables")
    )
    for pk, tables in rows.iterator(chunk_size=FEED_ROWS):
        for table in tables:
            if not table.startswith("("):
                readers.setdefault(table, AscendingIds()).append(pk)
    return readers


def _catalog_chunk(
    engagement: Engagement,
    chunk: list[tuple],
    readers: dict[str, AscendingIds],
    spellings: dict[str, list[str]],
) -> Iterator[dict]:
    keys = set()
    for schema, name, *_rest in chunk:
        keys |= {f"{schema}.{name}".lower() if schema else name.lower(), name.lower()}
    used_by = _feeds(engagement, keys, [readers[s] for k in keys for s in spellings.get(k, ())])
    for (
        schema,
        name,
        row_count,
        column,
        data_type,
        nullable,
        key,
        nulls,
        distinct,
        low,
        high,
    ) in chunk:
        table = f"{schema}.{name}" if schema else name
        feeds = used_by.get((table.lower(), column.lower())) or used_by.get(
            (name.lower(), column.lower()), []
        )
        yield (
            {
                "table": table,
                "column": column,
                "data_type": data_type,
                "nullable": nullable and not key,
                "primary_key": key,
                "rows": row_count,
                "null_percent": round(nulls, 1) if nulls is not None else None,
                "distinct": distinct,
                "min": low or "",
                "max": high or "",
                "used_by": ", ".join(feeds[:FEEDS_SHOWN])
                + (" …" if len(feeds) > FEEDS_SHOWN else ""),
            }
        )


def _feeds(
    engagement: Engagement, keys: set[str], readers: list[AscendingIds]
) -> dict[tuple[str, str], list[str]]:
    """(lower-case table of `keys`, lower-case column) → the first attributes it feeds, in row
    order, one more than shown to know there are more. Reads the rows reading those tables,
    FEED_ROWS at a time."""
    used_by: dict[tuple[str, str], list[str]] = {}
    for batch in batched(_distinct(heapq.merge(*readers)), FEED_ROWS):
        rows = (
            AttributeMapping.objects.filter(engagement=engagement, pk__in=batch)
            .order_by("pk")
            .values_list(
                "entity_mapping__entity_name", "attribute_name", "lineage", "lineage_tables"
            )
        )
        for entity, attribute, refs, lineage_tables in rows:
            tables = [t.lower() for t in lineage_tables if not t.startswith("(")]
            for ref in refs:
                column = ref.partition(".")[2].strip('"').lower()
                for table in tables:
                    if table not in keys:
                        continue
                    feeds = used_by.setdefault((table, column), [])
                    if len(feeds) <= FEEDS_SHOWN:
                        feeds.append(f"{entity}.{attribute}")
    return used_by


def _distinct(ids: Iterator[int]) -> Iterator[int]:
    last = None
    for pk in ids:
        if pk != last:
            yield pk
            last = pk


# --- the Change Log sheet ------------------------------------------------------------------------

ENTITY_LOGGED = {
    "driving_table": "Driving Table",
    "driving_alias": "Alias",
    "joins": "Joins",
    "filter": "Filter",
    "frequency": "Frequency",
    "load_strategy": "Load Strategy",
    "watermark": "Watermark",
    "delete_condition": "Delete Condition",
    "status": "Status",
    "feasibility": "Feasibility",
    "notes": "Notes",
}
ATTRIBUTE_LOGGED = {
    "source_columns": "Source Column(s)",
    "transformation": "Transformation",
    "default_value": "Default Value",
    "edge_cases": "Edge Cases",
    "status": "Status",
    "feasibility": "Feasibility",
    "sme_review": "SME Review",
    "notes": "Notes",
}


# History records read per query: each carries every logged field twice (before and after); on
# SQLite, records read by key at a time with the records before them.
CHANGE_LOG_CHUNK = 1000


def change_log(*, engagement: Engagement, since=None) -> Iterator[dict]:
    """Field changes of entity and attribute mappings since `since` (all when None), newest
    first: who, when, what, before, after. Creations are not changes.

    Streamed: the database pairs each history record with the one before it and sorts them
    newest first (_record_pairs; on SQLite _listed_record_pairs); the two models' records are
    merged as they come (on the same moment, entity changes first, then by row and record).
    Memory holds a chunk of records, the entity names and the people, not the log."""
    from django.contrib.auth import get_user_model

    streams = []
    people: set[int] = set()
    for rank, (model, logged, key_fields) in enumerate(
        (
            (EntityMapping, ENTITY_LOGGED, ("entity_name",)),
            (AttributeMapping, ATTRIBUTE_LOGGED, ("entity_mapping_id", "attribute_name")),
        )
    ):
        history = model.history.model.objects.filter(engagement=engagement)  # type: ignore[attr-defined]
        changed = history.filter(history_type__in=["~", "-"])
        if since is not None:
            changed = changed.filter(history_date__gt=since)
        # The whole history of each changed row, found by row id alone: a row never changes
        # engagement, and filtering on both lets a planner with stale statistics AND two
        # indexes once per row (PostgreSQL took 24 s for 10,000 rows after a bulk load).
        changed_rows = changed.values("id")
        records = model.history.model.objects.filter(id__in=changed_rows)  # type: ignore[attr-defined]
        people |= set(
            records.exclude(history_user_id=None)
            .order_by()
            .values_list("history_user_id", flat=True)
            .distinct()
        )
        streams.append(_changed_records(records, changed_rows, rank, logged, key_fields, since))
    entity_names = dict(
        EntityMapping.objects.filter(engagement=engagement).values_list("pk", "entity_name")
    )
    users = {
        u.pk: u.get_full_name() or u.username
        for u in get_user_model().objects.filter(pk__in=people)
    }
    for _order, record, rows in heapq.merge(*streams, reverse=True, key=lambda item: item[0]):
        entity = record.get("entity_name") or entity_names.get(record.get("entity_mapping_id"), "")
        for field_label, before, after in rows:
            yield {
                "when": record["history_date"],
                "who": users.get(record["history_user_id"], ""),
                "entity": entity,
                "attribute": record.get("attribute_name", ""),
                "field": field_label,
                "before": before,
                "after": after,
            }


def _changed_records(records, changed_rows, rank: int, logged: dict, key_fields: tuple, since):
    """(merge order, record, [(field, before, after)]) of each record of `records` (the history
    of the rows `changed_rows` lists) with a record before it, newest first."""
    fields = ("id", "history_id", "history_type", "history_date", "history_user_id", *key_fields)
    if connection.vendor == "sqlite":
        pairs = _listed_record_pairs(records, changed_rows, fields, logged, since)
    else:
        pairs = _record_pairs(records, fields, logged, since)
    for record, before in pairs:
        if record["history_type"] == "-":
            changes = [("(row deleted)", "", "")]
        else:
            changes = [
                (label, before[name], record[name])
                for name, label in logged.items()
                if before[name] != record[name]
            ]
        if changes:
            order = (record["history_date"], -rank, -record["id"], -record["history_id"])
            yield order, record, changes


def _record_pairs(records, fields: tuple, logged: dict, since) -> Iterator[tuple[dict, dict]]:
    """(record, the logged fields of the record before it) newest first, in one query: the
    database pairs each record with the one before it (LAG over the row's history) and sorts
    them, and they come a chunk at a time."""
    from django.db.models import Window
    from django.db.models.functions import Lag

    def previous(name: str) -> Window:
        return Window(
            Lag(name),
            partition_by=[F("id")],
            order_by=[F("history_date").asc(), F("history_id").asc()],
        )

    rows = (
        records.annotate(
            previous_record=previous("history_id"),
            **{f"before_{name}": previous(name) for name in logged},
        )
        .filter(previous_record__isnull=False)
        .order_by("-history_date", "id", "history_id")
        .values(*fields, *logged, *(f"before_{name}" for name in logged))
    )
    for record in rows.iterator(chunk_size=CHANGE_LOG_CHUNK):
        if since is None or record["history_date"] > since:
            yield record, {name: record[f"before_{name}"] for name in logged}


def _listed_record_pairs(
    records, changed_rows, fields: tuple, logged: dict, since
) -> Iterator[tuple[dict, dict]]:
    """_record_pairs as SQLite gives them without sorting them in this process's memory, where it
    sorts (~3 MB for 10,000 changes, even with their keys alone).

    The records are read newest first through the index of their moment, from `since` (or the
    changed rows' first record) on: the row id's own index is kept out of it (`id + 0`), or SQLite
    would pick it and sort what it finds. Each comes with the key of the record before it (looked
    up by the row's id); their fields, and their previous records', are read by key,
    CHANGE_LOG_CHUNK records at a time."""
    from django.db.models import Min, OuterRef, Q, Subquery

    history = records.model.objects
    if since is None:
        first = records.aggregate(first=Min("history_date"))["first"]
        if first is None:
            return
        listed = history.filter(history_date__gte=first)
    else:
        listed = history.filter(history_date__gt=since)
    before = (
        history.filter(id=OuterRef("id"))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    keys = (
        listed.alias(row=F("id") + 0)
        .filter(row__in=changed_rows)
        .annotate(previous_record=Subquery(before))
        .order_by("-history_date", "id", "history_id")
        .values_list("history_id", "previous_record")
    )
    pairs = ((key, previous) for key, previous in keys.iterator() if previous is not None)
    for chunk in batched(pairs, CHANGE_LOG_CHUNK):
        wanted = history.filter(history_id__in={key for pair in chunk for key in pair})
        by_key = {row["history_id"]: row for row in wanted.values(*fields, *logged)}
        for key, previous in chunk:
            yield by_key[key], by_key[previous]


def rules_dialects(*, engagement: Engagement) -> str:
    """The SQL dialects the engagement's rules are written in (its Mart sources'), as people name
    them: "PostgreSQL", or "generic SQL" for a source without one."""
    from catalog.dialects import dialect_name
    from catalog.models import SourceSystem

    dialects = SourceSystem.objects.filter(engagement=engagement).values_list("dialect", flat=True)
    return ", ".join(sorted({dialect_name(d) if d else "generic SQL" for d in dialects}))
