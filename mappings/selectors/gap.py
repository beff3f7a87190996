"""GAP analysis: what is left between the Mart and the Interface Layer — the scope of work.

Recomputed on demand from the mapping, the published contract, the catalog and its profiles, in a
fixed number of queries. Each item names the entity, the attribute, what is wrong, how bad it is
and what to do about it.

The database picks the rows the GAP can say something about (open mandatory attributes, rows with
warnings, sources the catalog no longer has, …); only those are read, so an engagement of 100,000
mapped attributes with few open items costs about as little as a small one.

The items are streamed in their order (gap_stream): memory holds a chunk of rows and their items,
never the GAP nor a sort of the engagement's rows.
"""

from __future__ import annotations

import heapq
import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, fields
from datetime import datetime
from typing import IO, NamedTuple

from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from catalog.models import CatalogColumn, CatalogTable, ColumnProfile
from contracts.diff import layer_diff
from contracts.models import InterfaceAttribute, InterfaceLayer
from contracts.selectors import diff_base, published_layer
from workbench.collation import code_point_order, code_point_sql
from workbench.models import Engagement

from ..choices import CommentKind, Feasibility, MappingStatus
from ..expressions import VALUES
from ..models import AttributeMapping, EntityMapping, MappingComment
from .mapping import ROWS_WITH_CONTRACT_TARGET, UNMAPPED_STATES

HIGH, MEDIUM, LOW = "high", "medium", "low"
_OPEN = [s.value for s in UNMAPPED_STATES]
SEVERITY_ORDER = {HIGH: 0, MEDIUM: 1, LOW: 2}


@dataclass(frozen=True, slots=True)
class GapItem:
    entity: str
    attribute: str
    category: str
    issue: str
    severity: str
    action: str

    def as_dict(self) -> dict:
        return {
            "entity": self.entity,
            "attribute": self.attribute,
            "category": self.category,
            "issue": self.issue,
            "severity": self.severity,
            "suggested_action": self.action,
        }


CATEGORIES = {
    "unmapped": "Mandatory attribute unmapped",
    "nullable": "Required attribute fed by nullable source",
    "type": "Type or length mismatch",
    "values": "Allowed values",
    "source_dropped": "Source column disappeared",
    "contract_changed": "Contract changed",
    "not_feasible": "Not feasible",
    "question": "Open question",
    "entity": "Entity not mapped",
}


def gap_items(*, engagement: Engagement) -> list[GapItem]:
    """Every GAP item, most severe first, then by entity, attribute and category."""
    return list(gap_stream(engagement=engagement))


def gap_stream(*, engagement: Engagement) -> Iterator[GapItem]:
    """The GAP items in gap_items' order, one at a time as they are found.

    Each source of items comes in (entity, attribute) order: the entity mappings, the rows the
    GAP speaks of (the database walks them in that order, a chunk at a time) and the open
    questions. Merged, they give every severity's items in order: the most severe are passed on
    as they come, the others wait in a temporary file until those are done. Memory holds a chunk
    of rows and their items, not the GAP (an item the same place, severity and category as
    another keeps the order it was found in: entity, then row, then question)."""
    layer = published_layer(engagement=engagement)
    entity_items = _entity_items(engagement)
    changed = _changed_since_previous_version(layer)
    dropped = _dropped_sources(engagement)
    row_items = (
        item
        for mappings, attributes in _facts(engagement, layer, changed, dropped.rows_condition())
        for item in _placed(
            [
                *_attribute_gaps(mappings, attributes),
                *_source_gaps(mappings, dropped),
                *_allowed_value_gaps(engagement, mappings, attributes),
                *_contract_change_gaps(layer, changed, mappings, attributes),
            ]
        )
    )
    placed = heapq.merge(entity_items, row_items, _question_gaps(engagement), key=_place_key)
    yield from _by_severity(placed)


def _entity_items(engagement: Engagement) -> list[GapItem]:
    """The items of the entity mappings themselves (one row per entity), placed."""
    entities = [
        _EntityFacts(*values)
        for values in EntityMapping.objects.filter(engagement=engagement).values_list(
            *_EntityFacts._fields
        )
    ]
    known_tables = _known_tables(engagement, {e.driving_table for e in entities})
    return _placed([*_entity_gaps(entities), *_driving_table_gaps(entities, known_tables)])


def _place_key(item: GapItem) -> tuple[str, str, int, str]:
    return item.entity, item.attribute, SEVERITY_ORDER[item.severity], item.category


def _placed(items: list[GapItem]) -> list[GapItem]:
    """Items of a few rows in (entity, attribute, severity, category) order, as found otherwise."""
    items.sort(key=_place_key)
    return items


def _by_severity(placed: Iterable[GapItem]) -> Iterator[GapItem]:
    """Items in (entity, attribute, severity, category) order → in (severity, entity, attribute,
    category) order: the most severe passed on at once, each other severity's kept in a
    temporary file (one JSON line an item) and read back after them."""
    first, *others = SEVERITY_ORDER
    with ExitStack() as files:
        kept: dict[str, IO[str]] = {}
        for item in placed:
            if item.severity == first:
                yield item
                continue
            if item.severity not in kept:
                kept[item.severity] = files.enter_context(
                    tempfile.TemporaryFile("w+", encoding="utf-8")
                )
            kept[item.severity].write(json.dumps(_item_values(item)) + "\n")
        for severity in others:
            if severity in kept:
                kept[severity].seek(0)
                for line in kept[severity]:
                    yield GapItem(*json.loads(line))


def _item_values(item: GapItem) -> list[str]:
    return [getattr(item, f.name) for f in fields(GapItem)]


class _EntityFacts(NamedTuple):
    """What the GAP needs of an entity mapping."""

    entity_name: str
    driving_table: str
    feasibility: str
    feasibility_comment: str


@dataclass(frozen=True, slots=True)
class _TargetFacts:
    """What the GAP needs of an interface attribute."""

    required: bool
    allowed_values: list


@dataclass(frozen=True, slots=True)
class _MappingFacts:
    """What the GAP needs of an attribute mapping: plain values (a spec of 20,000 attributes is
    analysed without building 20,000 model instances)."""

    entity: str
    attribute_name: str
    status: str
    problems: list
    feasibility: str
    feasibility_comment: str
    source_columns: str
    transformation: str
    lineage: list
    lineage_tables: list
    updated_at: datetime

    @property
    def status_label(self) -> str:
        return MappingStatus(self.status).label

    @property
    def warnings(self) -> list[dict]:
        return [p for p in self.problems if p.get("level") == "warning"]

    @property
    def rule(self) -> str:
        return self.transformation.strip() or self.source_columns.strip()


_MAPPING_COLUMNS = [f.name for f in fields(_MappingFacts) if f.name != "entity"]


# Picked rows analysed at a time (each chunk costs one query for its columns' profiles).
FACTS_CHUNK = 2000


def _facts(
    engagement, layer, changed: dict, dropped: tuple[str, list] | None
) -> Iterator[tuple[list[_MappingFacts], dict[tuple[str, str], _TargetFacts]]]:
    """The rows the GAP can say something about, with their contract targets, in one pass the
    database makes over the engagement's rows: open and mandatory, with warnings, not feasible,
    reading a dropped source, a direct move into a list of allowed values, gone from the contract
    or under a contract change. A row missing from the targets is not in the contract.

    In (entity, attribute) order, as Python orders them, which the database gives by walking the
    engagement's entity mappings and each one's rows in the order of their unique keys, sorting
    nothing (PostgreSQL sorts the rows picked). Read FACTS_CHUNK rows at a time: memory holds a
    chunk of rows, not every open row."""
    quote = connection.ops.quote_name
    length = "jsonb_array_length" if connection.vendor == "postgresql" else "json_array_length"
    picks = [f"{length}(m.problems) > 0", "m.feasibility = %s"]
    params: list = [Feasibility.NOT_FEASIBLE.value]
    if dropped is not None:
        picks.append(dropped[0])
        params += dropped[1]
    if layer is not None:
        open_states = ", ".join(["%s"] * len(_OPEN))
        picks += [
            f"(a.required AND m.status IN ({open_states}))",
            f"({length}(a.allowed_values) > 0 AND {length}(m.lineage_tables) > 0 "
            "AND m.transformation = '' AND m.source_columns <> '')",
            "(a.id IS NULL AND m.status <> %s)",
        ]
        params += [*_OPEN, MappingStatus.UNMAPPED.value]
        names = sorted({attribute for _entity, attribute in changed})
        if names and layer.published_at:
            picks.append(
                f"(m.updated_at < %s AND m.attribute_name IN ({', '.join(['%s'] * len(names))}))"
            )
            params += [layer.published_at, *names]
    columns = ", ".join(f"m.{quote(name)}" for name in _MAPPING_COLUMNS)
    sql = (
        f"SELECT e.entity_name, {columns}, a.id, a.required, a.allowed_values "
        f"FROM {ROWS_WITH_CONTRACT_TARGET} "
        # The rows of the engagement's entity mappings: the same rows as the rows of the
        # engagement, walked entity by entity.
        f"WHERE e.engagement_id = %s AND ({' OR '.join(picks)}) "
        f"ORDER BY {code_point_sql('e.entity_name')}, {code_point_sql('m.attribute_name')}"
    )
    mapping_value = [_from_db(AttributeMapping, name) for name in _MAPPING_COLUMNS]
    allowed_value = _from_db(InterfaceAttribute, "allowed_values")
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [layer.pk if layer else None, engagement.pk, *params])
        while rows := cursor.fetchmany(FACTS_CHUNK):
            mappings, targets = [], {}
            for entity, *values, target, required, allowed in rows:
                mapping = _MappingFacts(
                    entity, *(read(v) for read, v in zip(mapping_value, values, strict=True))
                )
                mappings.append(mapping)
                if target is not None:
                    targets[(entity, mapping.attribute_name)] = _TargetFacts(
                        bool(required), allowed_value(allowed) or []
                    )
            yield mappings, targets


def _from_db(model, name: str):
    """A column's value from a cursor as the ORM gives it (on SQLite: JSON text → list, time
    text → aware datetime)."""
    column = model._meta.get_field(name).get_col(model._meta.db_table)
    converters = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]

    def read(value):
        for converter in converters:
            value = converter(value, column, connection)
        return value

    return read


def _entity_gaps(entities: list[_EntityFacts]) -> list[GapItem]:
    items = []
    for entity in entities:
        if not entity.driving_table:
            items.append(
                GapItem(
                    entity.entity_name,
                    "",
                    CATEGORIES["entity"],
                    "No driving table chosen.",
                    HIGH,
                    "Choose the driving table and joins of the entity.",
                )
            )
        if entity.feasibility == Feasibility.NOT_FEASIBLE:
            items.append(
                GapItem(
                    entity.entity_name,
                    "",
                    CATEGORIES["not_feasible"],
                    entity.feasibility_comment or "Marked not feasible.",
                    HIGH,
                    "Agree a workaround with the ETL Developer and the SME.",
                )
            )
    return items


def _attribute_gaps(mappings: list[_MappingFacts], attributes: dict) -> list[GapItem]:
    items = []
    for mapping in mappings:
        entity = mapping.entity
        attribute = attributes.get((entity, mapping.attribute_name))
        if attribute is None:
            continue  # reported as a contract change
        if attribute.required and mapping.status in UNMAPPED_STATES:
            items.append(
                GapItem(
                    entity,
                    mapping.attribute_name,
                    CATEGORIES["unmapped"],
                    f"Mandatory, and {mapping.status_label.lower()}.",
                    HIGH,
                    "Map it from the Mart, or agree a default with the SME.",
                )
            )
        for warning in mapping.warnings:
            message = warning["message"]
            if warning.get("kind") == VALUES:
                items.append(
                    GapItem(
                        entity,
                        mapping.attribute_name,
                        CATEGORIES["values"],
                        message,
                        MEDIUM,
                        "Translate the values with a CASE or a lookup join.",
                    )
                )
            elif "can be NULL" in message:
                items.append(
                    GapItem(
                        entity,
                        mapping.attribute_name,
                        CATEGORIES["nullable"],
                        message,
                        HIGH,
                        "Add a default value or handle NULLs (COALESCE).",
                    )
                )
            else:
                items.append(
                    GapItem(
                        entity,
                        mapping.attribute_name,
                        CATEGORIES["type"],
                        message,
                        MEDIUM,
                        "Convert or truncate explicitly in the transformation.",
                    )
                )
        if mapping.feasibility == Feasibility.NOT_FEASIBLE:
            items.append(
                GapItem(
                    entity,
                    mapping.attribute_name,
                    CATEGORIES["not_feasible"],
                    mapping.feasibility_comment or "Marked not feasible.",
                    HIGH,
                    "Agree a workaround with the ETL Developer and the SME.",
                )
            )
    return items


def _known_tables(engagement, names: set[str]) -> set[str]:
    """The named catalog tables the catalog has, by lower-case `schema.table` and `table`."""
    return set(_catalog_columns(engagement, names, with_columns=False))


def _catalog_columns(engagement, names: set[str], *, with_columns=True) -> dict[str, set[str]]:
    """The named catalog tables (by lower-case `schema.table` and `table`) → their column names
    (left empty without `with_columns`). The columns are read by table id, through the index a
    table's columns have."""
    plain = {name.rsplit(".", 1)[-1] for name in names}
    keys: dict[int, list[str]] = {}
    for pk, schema, name in CatalogTable.objects.filter(
        engagement=engagement, name__in=plain
    ).values_list("pk", "schema", "name"):
        # by `schema.table` exactly; by the plain name, the columns of every schema's table
        keys[pk] = [name.lower(), f"{schema}.{name}".lower()] if schema else [name.lower()]
    columns: dict[str, set[str]] = {key: set() for table in keys.values() for key in table}
    if with_columns and keys:
        for table_id, column in CatalogColumn.objects.filter(table_id__in=keys).values_list(
            "table_id", "name"
        ):
            for key in keys[table_id]:
                columns[key].add(column.lower())
    return columns


_ROWS = AttributeMapping._meta.db_table
# Distinct lineages checked against the catalog at a time: memory holds their tables' columns only.
LINEAGE_BATCH = 2000


@dataclass(frozen=True, slots=True)
class _Lineage:
    """One distinct pair of a row's (tables, columns) lists: as the database spells them, and
    read."""

    tables_text: str
    columns_text: str
    tables: list[str]
    columns: list[str]

    @property
    def key(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return tuple(self.tables), tuple(self.columns)


@dataclass(frozen=True, slots=True)
class _DroppedSources:
    """The lineages reading a source the catalog no longer has, with what each misses."""

    messages: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]]
    texts: list[list[str]]  # their (tables, columns) lists as the database spells them

    def of(self, mapping: _MappingFacts) -> list[str]:
        return self.messages.get((tuple(mapping.lineage_tables), tuple(mapping.lineage)), [])

    def rows_condition(self) -> tuple[str, list] | None:
        """The rows reading a dropped source, as a condition on the row `m` and its parameter
        (the lists' text pairs, as one JSON parameter whatever their number); None when there are
        none."""
        if not self.texts:
            return None
        if connection.vendor == "postgresql":
            pairs = "SELECT p ->> 0, p ->> 1 FROM jsonb_array_elements(%s::jsonb) AS p"
        else:
            pairs = "SELECT p.value ->> 0, p.value ->> 1 FROM json_each(%s) AS p"
        lists = f"({_as_text('m.lineage_tables')}, {_as_text('m.lineage')})"
        return f"{lists} IN ({pairs})", [json.dumps(self.texts)]


def _as_text(column: str) -> str:
    return f"{column}::text" if connection.vendor == "postgresql" else column


def _dropped_sources(engagement) -> _DroppedSources:
    """The distinct lineages the rules read that the catalog no longer fully has. Streamed in
    batches, each checked against its own tables' columns: memory holds a batch, not the
    engagement's lineage nor its catalog."""
    dropped = _DroppedSources({}, [])
    kept: set[tuple[str, str]] = set()  # the text pairs of `dropped`: a later batch may repeat one
    for batch in _lineage_batches(engagement):
        tables = {t for lineage in batch for t in lineage.tables if not t.startswith("(")}
        catalog = _catalog_columns(engagement, tables)
        for lineage in batch:
            messages = _missing_sources(lineage, catalog)
            pair = (lineage.tables_text, lineage.columns_text)
            if messages and pair not in kept:
                kept.add(pair)
                dropped.messages[lineage.key] = messages
                dropped.texts.append(list(pair))
    return dropped


def _lineage_batches(engagement) -> Iterator[list[_Lineage]]:
    """The distinct (tables, columns) lists the rules read, LINEAGE_BATCH at a time (comparing the
    lists as text is cheaper than expanding every row's elements).

    The rows' lists are read entity by entity, so that a batch's tables are few (an entity's rules
    read its FROM clause's), and told apart here a batch at a time: a DISTINCT in the query would
    sort every row of the engagement first (SQLite in this process's memory: ~4 MB at 100,000
    rows), while the database walks the entities and their rows in the order of their keys. A
    list a later batch meets again is checked again."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT {_as_text('m.lineage_tables')}, {_as_text('m.lineage')} "
            f"FROM {_ROWS} m JOIN {EntityMapping._meta.db_table} e ON e.id = m.entity_mapping_id "
            "WHERE e.engagement_id = %s ORDER BY e.entity_name",
            [engagement.pk],
        )
        batch: dict[tuple[str, str], None] = {}  # as a set, in the order met
        while rows := cursor.fetchmany(LINEAGE_BATCH):
            for pair in rows:
                batch[pair] = None
                if len(batch) >= LINEAGE_BATCH:
                    yield _lineages(batch)
                    batch = {}
        if batch:
            yield _lineages(batch)


def _lineages(pairs: Iterable[tuple[str, str]]) -> list[_Lineage]:
    tables: dict[str, list[str]] = {}  # a batch's pairs share a few tables lists
    return [
        _Lineage(t, c, tables.get(t) or tables.setdefault(t, json.loads(t)), json.loads(c))
        for t, c in pairs
    ]


def _column(reference: str) -> str:
    return reference.split(".", 1)[1].strip('"')


def _missing_sources(lineage: _Lineage, catalog: dict[str, set[str]]) -> list[str]:
    """What one lineage reads that the catalog no longer has: a table, or (a rule over one table)
    its columns. A lookup's own columns, "(…)", are not the Mart's."""
    messages = []
    for table_name in lineage.tables:
        if table_name.startswith("("):
            continue
        table = catalog.get(table_name.lower())
        if table is None:
            messages.append(f"{table_name}: (table dropped) no longer in the Mart.")
        elif len(lineage.tables) == 1:
            missing = [c for c in map(_column, lineage.columns) if c.lower() not in table]
            if missing:
                messages.append(f"{table_name}: {', '.join(missing)} no longer in the Mart.")
    return messages


def _driving_table_gaps(entities: list[_EntityFacts], known_tables: set[str]) -> list[GapItem]:
    """Entities driven by a table the catalog no longer has (after a re-introspection)."""
    return [
        GapItem(
            entity.entity_name,
            "",
            CATEGORIES["source_dropped"],
            f"The driving table {entity.driving_table} is no longer in the Mart.",
            HIGH,
            "Choose another driving table.",
        )
        for entity in entities
        if entity.driving_table and entity.driving_table.lower() not in known_tables
    ]


def _source_gaps(mappings, dropped: _DroppedSources) -> list[GapItem]:
    """Lineage pointing at a table or column the catalog no longer has."""
    return [
        GapItem(
            mapping.entity,
            mapping.attribute_name,
            CATEGORIES["source_dropped"],
            message,
            HIGH,
            "Re-map the attribute from the current catalog.",
        )
        for mapping in mappings
        for message in dropped.of(mapping)
    ]


def _allowed_value_gaps(engagement, mappings, attributes) -> list[GapItem]:
    """Direct moves whose profiled top values fall outside the attribute's allowed values."""
    wanted = []
    for mapping in mappings:
        attribute = attributes.get((mapping.entity, mapping.attribute_name))
        if attribute is None or not attribute.allowed_values or mapping.transformation:
            continue
        if any(w.get("kind") == VALUES for w in mapping.warnings):
            continue  # the row's own warnings, from its last save, already list them
        if not mapping.source_columns or not mapping.lineage_tables:
            continue
        column = mapping.source_columns.split(".", 1)[1].strip().strip('"')
        wanted.append((mapping, attribute, mapping.lineage_tables[0], column))
    if not wanted:
        return []
    names = {table.rsplit(".", 1)[-1] for _m, _a, table, _c in wanted}
    top_values = dict(
        ((f"{schema}.{table}" if schema else table, column), values)
        for schema, table, column, values in ColumnProfile.objects.filter(
            engagement=engagement,
            column__table__name__in=names,
            column__name__in={column for _m, _a, _t, column in wanted},
        ).values_list("column__table__schema", "column__table__name", "column__name", "top_values")
    )
    items = []
    for mapping, attribute, table, column in wanted:
        values = top_values.get((table, column))  # `schema.table` as the lineage names it
        if values is None:
            continue
        allowed = {str(v) for v in attribute.allowed_values}
        outside = [
            str(v["value"])
            for v in values
            if str(v["value"]) not in allowed and v["value"] not in (None, "")
        ]
        if outside:
            items.append(
                GapItem(
                    mapping.entity,
                    mapping.attribute_name,
                    CATEGORIES["values"],
                    f"The source holds values outside the allowed list: {', '.join(outside[:5])}.",
                    MEDIUM,
                    "Translate the values with a CASE or a lookup join.",
                )
            )
    return items


def _contract_change_gaps(
    layer: InterfaceLayer | None, changed: dict, mappings, attributes
) -> list[GapItem]:
    items = []
    for mapping in mappings:
        key = (mapping.entity, mapping.attribute_name)
        fields = changed.get(key)
        if fields and layer and mapping.rule and mapping.updated_at < layer.published_at:
            items.append(
                GapItem(
                    *key,
                    CATEGORIES["contract_changed"],
                    f"The new contract version changed its {', '.join(fields)}.",
                    HIGH,
                    "Check the rule still fits, then save it again.",
                )
            )
    for mapping in mappings:
        key = (mapping.entity, mapping.attribute_name)
        if layer is not None and key not in attributes and mapping.status != MappingStatus.UNMAPPED:
            items.append(
                GapItem(
                    *key,
                    CATEGORIES["contract_changed"],
                    "The published contract no longer has this attribute.",
                    MEDIUM,
                    "Retire the mapping or move its rule to the new attribute.",
                )
            )
    return items


def _changed_since_previous_version(layer: InterfaceLayer | None) -> dict[tuple, list[str]]:
    if layer is None or layer.published_at is None:
        return {}
    base = diff_base(layer=layer)
    if base is None:
        return {}
    diff = layer_diff(old=base, new=layer)
    return {
        (c.entity, c.attribute): [ch.label for ch in c.changes] for c in diff.attributes_changed
    }


def affected_by_contract_diff(engagement, diff) -> list[dict]:
    """For the contract diff page: mappings a new version removes or changes under them."""
    mapped = {
        (m.entity_mapping.entity_name, m.attribute_name): m
        for m in AttributeMapping.objects.filter(engagement=engagement)
        .exclude(status=MappingStatus.UNMAPPED)
        .select_related("entity_mapping")
    }
    items = [
        {"entity": e, "attribute": a, "reason": "removed from the contract"}
        for e, a in diff.attributes_removed
        if (e, a) in mapped
    ]
    items += [
        {"entity": e, "attribute": a, "reason": "its entity is removed from the contract"}
        for (e, a) in mapped
        if e in diff.entities_removed
    ]
    items += [
        {
            "entity": c.entity,
            "attribute": c.attribute,
            "reason": f"changed: {', '.join(ch.label for ch in c.changes)}",
        }
        for c in diff.attributes_changed
        if (c.entity, c.attribute) in mapped
    ]
    return items


def _question_gaps(engagement) -> Iterator[GapItem]:
    """The open questions, by entity and attribute (an entity's own first), then as asked."""
    questions = (
        MappingComment.objects.filter(
            engagement=engagement, kind=CommentKind.QUESTION, resolved=False, parent__isnull=True
        )
        .order_by(
            code_point_order(F("entity_mapping__entity_name")),
            code_point_order(Coalesce(F("attribute_mapping__attribute_name"), Value(""))),
            "created_at",
            "id",
        )
        .values_list(
            "entity_mapping__entity_name",
            "attribute_mapping__attribute_name",
            "author__first_name",
            "author__last_name",
            "author__username",
            "text",
        )
    )
    for entity, attribute, first, last, username, text in questions.iterator(
        chunk_size=FACTS_CHUNK
    ):
        yield GapItem(
            entity,
            attribute or "",
            CATEGORIES["question"],
            f"{f'{first} {last}'.strip() or username}: {text[:200]}",
            LOW,
            "Answer the question and resolve the thread.",
        )


def gap_counts(items: Iterable[GapItem]) -> list[dict]:
    """Items per category and severity, most severe first."""
    return gap_counts_of(Counter((item.severity, item.category) for item in items))


def gap_counts_of(counts: Mapping[tuple[str, str], int]) -> list[dict]:
    """gap_counts of items counted already, per (severity, category)."""
    return [
        {"severity": severity, "category": category, "count": count}
        for (severity, category), count in sorted(
            counts.items(), key=lambda kv: (SEVERITY_ORDER[kv[0][0]], -kv[1], kv[0][1])
        )
    ]


def gap_rows(*, engagement: Engagement, items: list[GapItem]) -> dict[tuple[str, str], tuple]:
    """Where each item is fixed: (entity, attribute) → (entity mapping id, attribute mapping id or
    None for an entity-level item). Read for the named entities only, in two queries."""
    names = {item.entity for item in items}
    entities = dict(
        EntityMapping.objects.filter(engagement=engagement, entity_name__in=names).values_list(
            "entity_name", "pk"
        )
    )
    wanted = {(item.entity, item.attribute) for item in items if item.attribute}
    attributes = {
        (entity, attribute): pk
        for entity, attribute, pk in AttributeMapping.objects.filter(
            engagement=engagement,
            entity_mapping__entity_name__in=names,
            attribute_name__in={attribute for _, attribute in wanted},
        ).values_list("entity_mapping__entity_name", "attribute_name", "pk")
        if (entity, attribute) in wanted
    }
    rows: dict[tuple[str, str], tuple] = {}
    for item in items:
        if item.entity in entities:
            attribute_pk = attributes.get((item.entity, item.attribute))
            rows[(item.entity, item.attribute)] = (entities[item.entity], attribute_pk)
    return rows


def gap_summary(items: list[GapItem]) -> dict[str, int]:
    return {
        severity: sum(1 for i in items if i.severity == severity) for severity in SEVERITY_ORDER
    }
