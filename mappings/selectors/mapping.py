"""Reads of the mapping: the catalog and the contract's targets as the entity's SQL is
compiled against them (mappings.compiled), the mapping grid and coverage. Every page-level read is
a fixed number of queries."""

from __future__ import annotations

import operator
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import reduce
from typing import Any

import sqlglot
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from sqlglot import exp

from catalog.models import CatalogColumn, CatalogTable
from contracts.models import InterfaceAttribute, InterfaceEntity, InterfaceRelationship
from contracts.quality import allowed_values_threshold
from contracts.selectors import published_layer
from workbench.models import Engagement

from ..choices import CommentKind, EntityStatus, Feasibility, MappingStatus
from ..expressions import (
    ColumnInfo,
    TableInfo,
    Target,
    split_joins,
    table_lookup_name,
)
from ..load_order import LoadOrder, load_order
from ..models import AttributeMapping, EntityMapping, MappingComment

# --- the catalog as the SQL checks see it -----------------------------------------------------


def _qualified(table: CatalogTable) -> str:
    return f"{table.schema}.{table.name}" if table.schema else table.name


def catalog_index(*, engagement: Engagement, names: set[str] | None = None) -> dict[str, TableInfo]:
    """Catalog tables (all, or those named) keyed by lower-case `schema.table` and `table`.

    Two queries: the tables, then their columns with profiles.
    """
    tables = CatalogTable.objects.filter(engagement=engagement)
    if names is not None:
        plain = {n.rsplit(".", 1)[-1] for n in names}
        # names arrive in lower case; the catalog keeps the Mart's ("CrmNote" on PostgreSQL)
        matches = [Q(name__iexact=name) for name in sorted(plain)]
        tables = tables.filter(reduce(operator.or_, matches)) if matches else tables.none()
    ordered = list(
        tables.annotate(source_dialect=F("source__dialect")).order_by("source_id", "schema", "name")
    )
    infos: dict[int, TableInfo] = {
        t.pk: TableInfo(name=_qualified(t), dialect=t.source_dialect) for t in ordered
    }
    # plain values, not model instances: an entity's rules read hundreds of columns
    columns = (
        CatalogColumn.objects.filter(table_id__in=infos)
        .order_by("position")
        .values_list(
            "table_id",
            "name",
            "data_type",
            "length",
            "nullable",
            "is_primary_key",
            "profile__max_length",
            "profile__patterns",
            "profile__top_values",
            "profile__sample_rows",
        )
    )
    for table_id, name, data_type, length, nullable, is_key, *profile in columns:
        max_length, patterns, top_values, sample_rows = profile
        infos[table_id].columns[name.lower()] = ColumnInfo(
            name=name,
            data_type=data_type,
            length=length,
            nullable=nullable and not is_key,  # SQLite says otherwise
            is_primary_key=is_key,
            profiled_max_length=max_length,
            patterns=tuple(p.get("pattern", "") for p in patterns or ()),
            top_values=tuple(
                (str(v["value"]), int(v.get("count") or 0))
                for v in top_values or ()
                if isinstance(v, dict) and v.get("value") is not None
            ),
            sample_rows=sample_rows or 0,
        )
    index: dict[str, TableInfo] = {}
    for table in ordered:
        index.setdefault(infos[table.pk].name.lower(), infos[table.pk])
    # a plain table name stands for its table only where no other schema has one of that name
    schemas_of: dict[str, set[str]] = {}
    for table in ordered:
        schemas_of.setdefault(table.name.lower(), set()).add(table.schema.lower())
    for table in ordered:
        if len(schemas_of[table.name.lower()]) == 1:
            index.setdefault(table.name.lower(), infos[table.pk])
    return index


def referenced_tables(driving_table: str, joins: str) -> set[str]:
    """Table names an entity's FROM clause mentions (best effort; the checks report bad SQL).

    The Mart's dialect is not known yet (it is the driving table's): a piece generic SQL cannot
    read names every word it holds, which only widens the catalog query."""
    names = {driving_table.strip().lower()} if driving_table.strip() else set()
    for piece in split_joins(joins or ""):
        try:
            join = sqlglot.parse_one(piece, into=exp.Join)
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
            names.update(re.findall(r"[^\W\d]\w*", piece.lower()))
            continue
        names.update(table_lookup_name(t).lower() for t in join.find_all(exp.Table))
    return names


# --- the contract as the mapping sees it ------------------------------------------------------


def attribute_target(attribute: InterfaceAttribute | None) -> Target:
    if attribute is None:
        return Target()
    max_length = attribute.max_length or (
        attribute.length if attribute.logical_type == "string" else None
    )
    return Target(
        logical_type=attribute.logical_type,
        max_length=max_length,
        required=attribute.required,
        allowed_values=tuple(str(v) for v in attribute.allowed_values or ()),
        pattern=attribute.pattern,
        values_tolerance=allowed_values_threshold(attribute),
    )


def contract_attributes(
    *, engagement: Engagement, entity_name: str | Collection[str] | None = None
) -> dict[tuple[str, str], InterfaceAttribute]:
    """The published contract's attributes keyed by (entity, attribute), in one query: of every
    entity, of the one named, or of the names given."""
    layer = published_layer(engagement=engagement)
    if layer is None:
        return {}
    attributes = InterfaceAttribute.objects.select_related("entity")
    if entity_name is None:
        attributes = attributes.filter(layer=layer)
    else:
        attributes = attributes.of_entities(layer, entity_name)
    return {(a.entity.name, a.name): a for a in attributes.order_by("entity__position", "position")}


def unmapped_contract_attributes(*, engagement: Engagement, layer) -> QuerySet[InterfaceAttribute]:
    """The contract's attributes without an attribute mapping, answered by the database from the
    two unique indexes (entity by engagement and name, row by entity and attribute name). The
    engagement is the entity mapping's, not the attribute mapping's own column: SQLite would
    otherwise search all the engagement's attribute mappings for each contract attribute."""
    mapped = AttributeMapping.objects.filter(
        entity_mapping__engagement=engagement,
        entity_mapping__entity_name=OuterRef("entity__name"),
        attribute_name=OuterRef("name"),
    )
    return InterfaceAttribute.objects.filter(entity__layer=layer).filter(~Exists(mapped)).order_by()


def contract_attributes_without_mapping(*, engagement: Engagement, layer) -> list[tuple[str, str]]:
    """(entity, attribute) of the contract that have no attribute mapping yet, in contract
    order: one anti-join, which reads nothing when none is missing (a re-import, a prepared
    mapping of 100,000 rows)."""
    return list(
        unmapped_contract_attributes(engagement=engagement, layer=layer)
        .order_by("entity__position", "position")
        .values_list("entity__name", "name")
    )


@dataclass(frozen=True)
class EntityShape:
    """What a load strategy needs to know of a contract entity."""

    attributes: list[str]
    primary_key: list[str]
    referenced_by: list[str]  # the other entities whose foreign keys point at it


def contract_entity_shape(*, engagement: Engagement, entity_name: str) -> EntityShape:
    """The published contract's view of one entity for its load strategy: two queries."""
    attributes = list(contract_attributes(engagement=engagement, entity_name=entity_name).values())
    layer = published_layer(engagement=engagement)
    referencing = (
        InterfaceRelationship.objects.filter(layer=layer, to_attribute__entity__name=entity_name)
        .exclude(from_attribute__entity__name=entity_name)
        .values_list("from_attribute__entity__name", flat=True)
        if layer is not None
        else []
    )
    keyed = sorted(
        (a for a in attributes if a.primary_key), key=lambda a: a.primary_key_position or 0
    )
    return EntityShape(
        attributes=[a.name for a in attributes],
        primary_key=[a.name for a in keyed],
        referenced_by=sorted(set(referencing)),
    )


def contract_load_order(*, engagement: Engagement) -> LoadOrder:
    layer = published_layer(engagement=engagement)
    if layer is None:
        return LoadOrder()
    entities = InterfaceEntity.objects.filter(layer=layer).order_by("position")
    edges = (
        InterfaceRelationship.objects.filter(layer=layer)
        .internal()
        .values_list("from_attribute__entity__name", "to_attribute__entity__name")
    )
    return load_order(entities.values_list("name", flat=True), edges)


# --- pages ------------------------------------------------------------------------------------


@dataclass
class GridRow:
    attribute: InterfaceAttribute | None  # None: the contract no longer has it
    mapping: AttributeMapping
    comment_count: int
    open_questions: int
    approval: dict | None = None  # set by the page: this row's state against its last approval

    @property
    def name(self) -> str:
        return self.mapping.attribute_name

    @property
    def required(self) -> bool:
        return bool(self.attribute and self.attribute.required)

    @property
    def problem_flags(self) -> set[str]:
        m = self.mapping
        return problem_flags(
            in_contract=self.attribute is not None,
            required=self.required,
            status=m.status,
            feasibility=m.feasibility,
            problems=m.problems,
            open_questions=self.open_questions,
            approval=self.approval,
        )


def problem_flags(
    *,
    in_contract: bool,
    required: bool,
    status: str,
    feasibility: str,
    problems: list[dict],
    open_questions: int,
    approval: dict | None,
) -> set[str]:
    """What is wrong with one grid row, as the problem filter and the grid's flags name it."""
    flags = set()
    if not in_contract:
        flags.add("removed")
    if required and status in UNMAPPED_STATES:
        flags.add("mandatory_unmapped")
    levels = {p.get("level") for p in problems}
    if "warning" in levels:
        flags.add("warnings")
    if "error" in levels:
        flags.add("errors")
    if status == MappingStatus.BLOCKED:
        flags.add("blocked")
    if feasibility == Feasibility.NOT_FEASIBLE:
        flags.add("not_feasible")
    if open_questions:
        flags.add("open_questions")
    if approval and approval["changed"]:
        flags.add("changed_since_signoff")
    return flags


UNMAPPED_STATES = {MappingStatus.UNMAPPED, MappingStatus.DRAFT, MappingStatus.BLOCKED}
PROBLEM_FILTERS = {
    "mandatory_unmapped": "Mandatory unmapped",
    "warnings": "Has warnings",
    "errors": "Has errors",
    "blocked": "Blocked",
    "not_feasible": "Not feasible",
    "open_questions": "Open questions",
    "removed": "Not in the contract",
    "changed_since_signoff": "Changed since sign-off",
}


def mapping_grid(
    *,
    entity_mapping: EntityMapping,
    status: str = "",
    problem: str = "",
    approval: dict | None = None,
) -> list[GridRow]:
    """One row per attribute of the entity, in contract order: three queries whatever the size.

    `approval` ((entity, attribute) → state, from mappings.hooks.approval_state) marks
    the rows changed since their sign-off, so the problem filter can find them.
    """
    attributes = contract_attributes(
        engagement=entity_mapping.engagement, entity_name=entity_mapping.entity_name
    )
    mappings = entity_mapping.attributes.select_related("updated_by").annotate(
        comment_count=Count("comments", distinct=True),
        open_questions=Count(
            "comments",
            filter=Q(comments__kind=CommentKind.QUESTION, comments__resolved=False),
            distinct=True,
        ),
    )
    position = {name: i for i, (_e, name) in enumerate(attributes)}
    rows = [
        GridRow(
            attribute=attributes.get((entity_mapping.entity_name, m.attribute_name)),
            mapping=m,
            comment_count=m.comment_count,
            open_questions=m.open_questions,
            approval=(approval or {}).get((entity_mapping.entity_name, m.attribute_name)),
        )
        for m in mappings
    ]
    rows.sort(key=lambda r: (position.get(r.name, len(position)), r.name))
    if status:
        rows = [r for r in rows if r.mapping.status == status]
    if problem:
        rows = [r for r in rows if problem in r.problem_flags]
    return rows


# The attribute mapping's own columns in a row of the mapping grid: what the grid shows, what a
# cell draws from (the problems of the rule, the lineage of a transformation) and the version the
# next save is based on. The grid rows API reads these and GridRowSerializer documents them, from
# this one list. The details the grid does not show (edge cases, notes, who changed the row and
# when) are on the attribute's page and in the single-row API, whose answer to a save the grid
# merges into its row.
GRID_MAPPING_FIELDS = (
    "id",
    "attribute_name",
    "source_columns",
    "transformation",
    "default_value",
    "status",
    "feasibility",
    "sme_review",
    "problems",
    "lineage",
    "row_version",
)


def mapping_grid_values(
    *, entity_mapping: EntityMapping, approval: dict | None = None, ids: set[int] | None = None
) -> list[dict[str, Any]]:
    """The grid's rows (of `ids` only, when given) as plain values, in contract order: what
    mapping_grid reads, for the API, where an entity may have thousands of attributes. Three
    queries and no model instances: building those is most of the time at 5,000 rows; only the
    columns the grid shows are read (GRID_MAPPING_FIELDS), so nothing is decoded or sent that no
    cell draws."""
    entity_name = entity_mapping.entity_name
    layer = published_layer(engagement=entity_mapping.engagement)
    contract: dict[str, dict[str, Any]] = {}
    if layer is not None:
        attributes = (
            InterfaceAttribute.objects.of_entities(layer, entity_name)
            .order_by("position")
            .values_list(
                "name", "logical_type", "max_length", "canonical_meaning", "required", "primary_key"
            )
        )
        for name, logical_type, max_length, meaning, required, primary_key in attributes:
            contract[name] = {
                "data_type": f"{logical_type}({max_length})" if max_length else logical_type,
                "canonical_meaning": meaning,
                "required": bool(required),
                "primary_key": bool(primary_key),
                "in_contract": True,
            }
    missing = {
        "data_type": "",
        "canonical_meaning": "",
        "required": False,
        "primary_key": False,
        "in_contract": False,
    }
    mappings = entity_mapping.attributes.order_by()
    if ids is not None:
        mappings = mappings.filter(pk__in=ids)
    # counted apart: grouping the rows themselves would group by every column on SQLite
    talk = {
        mapping_id: (comments, questions)
        for mapping_id, comments, questions in MappingComment.objects.filter(
            attribute_mapping__in=mappings
        )
        .order_by()
        .values("attribute_mapping_id")
        .annotate(
            comments=Count("pk"),
            questions=Count("pk", filter=Q(kind=CommentKind.QUESTION, resolved=False)),
        )
        .values_list("attribute_mapping_id", "comments", "questions")
    }
    position = {name: i for i, name in enumerate(contract)}
    approval = approval or {}
    rows = []
    for values in mappings.values_list(*GRID_MAPPING_FIELDS):
        m = dict(zip(GRID_MAPPING_FIELDS, values, strict=True))
        name = m["attribute_name"]
        target = contract.get(name)
        comments, questions = talk.get(m["id"], (0, 0))
        m.update(target or missing)
        m["comment_count"] = comments
        m["open_questions"] = questions
        m["flags"] = sorted(
            problem_flags(
                in_contract=target is not None,
                required=m["required"],
                status=m["status"],
                feasibility=m["feasibility"],
                problems=m["problems"],
                open_questions=questions,
                approval=approval.get((entity_name, name)),
            )
        )
        rows.append(m)
    rows.sort(key=lambda r: (position.get(r["attribute_name"], len(position)), r["attribute_name"]))
    return rows


@dataclass(frozen=True)
class Coverage:
    """The mapping's coverage: one row per entity mapping (see coverage), and how many
    attributes of the published contract have no mapping row yet (None without a published
    contract that has attributes)."""

    rows: list[dict]
    unprepared: int | None


def coverage(*, engagement: Engagement) -> Coverage:
    """Per entity mapping: attribute counts, mapped, mandatory unmapped, blocked and not feasible,
    in load order; counted by the database in one pass over the rows joined to their contract
    targets (the rows themselves are never read)."""
    layer = published_layer(engagement=engagement)
    counts = {row[0]: row[1:] for row in _coverage_counts(engagement, layer)}
    order = contract_load_order(engagement=engagement)
    rows: list[dict[str, Any]] = []
    for entity in EntityMapping.objects.filter(engagement=engagement):
        total, mapped, blocked, not_feasible, mandatory_open, _targets = counts.get(
            entity.pk, (0, 0, 0, 0, 0, 0)
        )
        rows.append(
            {
                "entity": entity,
                "total": total,
                "mapped": mapped,
                "mandatory_unmapped": mandatory_open,
                "blocked": blocked,
                "not_feasible": not_feasible,
                "percent": round(100 * mapped / total) if total else 0,
                "load_position": order.position(entity.entity_name),
            }
        )
    rows.sort(key=lambda r: (r["load_position"] or 10_000, r["entity"].entity_name))
    targets = InterfaceAttribute.objects.filter(layer=layer).count() if layer else 0
    # a row matches at most one target (names are unique), so the targets left have no row
    matched = sum(own[-1] for own in counts.values())
    return Coverage(rows, targets - matched if targets else None)


# The attribute mapping rows `m` with their entity mapping `e` and their target `a` in the contract
# (NULL when it has none), through the keys (layer, entity name) then (entity, attribute name).
# Its one parameter is the contract layer's id (NULL without a published contract).
ROWS_WITH_CONTRACT_TARGET = (
    f"{AttributeMapping._meta.db_table} m "
    f"JOIN {EntityMapping._meta.db_table} e ON e.id = m.entity_mapping_id "
    f"LEFT JOIN {InterfaceEntity._meta.db_table} ie ON ie.layer_id = %s AND ie.name = e.entity_name "
    f"LEFT JOIN {InterfaceAttribute._meta.db_table} a "
    "ON a.entity_id = ie.id AND a.name = m.attribute_name"
)


def _coverage_counts(engagement: Engagement, layer) -> list[tuple]:
    """(entity mapping id, rows, mapped, blocked, not feasible, mandatory and open, rows with a
    target in the contract) per entity mapping."""
    open_states = [s.value for s in UNMAPPED_STATES]
    marks = ", ".join(["%s"] * len(open_states))
    sql = (
        "SELECT m.entity_mapping_id, COUNT(*), "
        f"SUM(CASE WHEN m.status NOT IN ({marks}) THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN m.status = %s THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN m.feasibility = %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN a.required AND m.status IN ({marks}) THEN 1 ELSE 0 END), "
        "COUNT(a.id) "
        f"FROM {ROWS_WITH_CONTRACT_TARGET} "
        "WHERE m.engagement_id = %s GROUP BY m.entity_mapping_id"
    )
    params = [
        *open_states,
        MappingStatus.BLOCKED.value,
        Feasibility.NOT_FEASIBLE.value,
        *open_states,
        layer.pk if layer else None,
        engagement.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def open_comment_count(*, engagement: Engagement) -> int:
    return MappingComment.objects.filter(
        engagement=engagement, resolved=False, parent__isnull=True
    ).count()


def entity_status_counts(*, engagement: Engagement) -> dict[str, int]:
    counts = dict.fromkeys(EntityStatus.values, 0)
    for status in EntityMapping.objects.filter(engagement=engagement).values_list(
        "status", flat=True
    ):
        counts[status] += 1
    return counts


def lineage_graph(mappings: list[AttributeMapping], alias_tables: dict[str, str]) -> dict:
    """Source columns → transformation → interface attribute, laid out in three columns.

    `alias_tables` maps an alias to its table name, so a column node reads `table.column`.
    """
    nodes: list[dict] = []
    edges: list[dict] = []
    sources: dict[str, int] = {}
    row = 0
    for mapping in mappings:
        if not mapping.lineage and not mapping.default_value:
            continue
        target_id = f"attr:{mapping.pk}"
        nodes.append(
            {
                "data": {"id": target_id, "label": mapping.attribute_name, "kind": "attribute"},
                "position": {"x": 640, "y": 60 * row},
            }
        )
        upstream = target_id
        if mapping.transformation or mapping.default_value:
            rule_id = f"rule:{mapping.pk}"
            label = _short(mapping.transformation or f"default {mapping.default_value}")
            nodes.append(
                {
                    "data": {
                        "id": rule_id,
                        "label": label,
                        "kind": "rule",
                        "sql": mapping.transformation,
                    },
                    "position": {"x": 340, "y": 60 * row},
                }
            )
            edges.append({"data": {"id": f"e:{rule_id}", "source": rule_id, "target": target_id}})
            upstream = rule_id
        for reference in mapping.lineage:
            alias, column = reference.split(".", 1)
            source_id = f"col:{reference}"
            if source_id not in sources:
                sources[source_id] = len(sources)
                nodes.append(
                    {
                        "data": {
                            "id": source_id,
                            "label": f"{alias_tables.get(alias, alias)}.{column}",
                            "kind": "column",
                        },
                        "position": {"x": 40, "y": 60 * sources[source_id]},
                    }
                )
            edges.append(
                {
                    "data": {
                        "id": f"e:{source_id}>{upstream}",
                        "source": source_id,
                        "target": upstream,
                    }
                }
            )
        row += 1
    return {"nodes": nodes, "edges": edges}


def _short(text: str, width: int = 38) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def catalog_table_names(*, engagement: Engagement) -> list[str]:
    """For the driving-table picker."""
    return sorted(
        f"{schema}.{name}" if schema else name
        for schema, name in CatalogTable.objects.filter(engagement=engagement).values_list(
            "schema", "name"
        )
    )
