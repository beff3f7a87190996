"""GAP analysis: what is left between the Mart and the Interface Layer — the scope of work.

Recomputed on demand from the mapping, the published contract, the catalog and its profiles, in a
fixed number of queries. Each item names the entity, the attribute, what is wrong, how bad it is
and what to do about it.

The database picks the rows the GAP can say something about (open mandatory attributes, rows with
warnings, sources the catalog no longer has, …); only those are read, so an engagement of 100,000
mapped attributes with few open items costs about as little as a small one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from catalog.models import CatalogColumn, CatalogTable, ColumnProfile
from contracts.diff import layer_diff
from contracts.models import InterfaceAttribute, InterfaceLayer
from contracts.selectors import diff_base, published_layer
from workbench.models import Engagement

from ..choices import CommentKind, Feasibility, MappingStatus
from ..expressions import VALUES
from ..models import AttributeMapping, EntityMapping, MappingComment
from .mapping import UNMAPPED_STATES, contract_target

HIGH, MEDIUM, LOW = "high", "medium", "low"
_OPEN = [s.value for s in UNMAPPED_STATES]
SEVERITY_ORDER = {HIGH: 0, MEDIUM: 1, LOW: 2}


@dataclass(frozen=True)
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
    layer = published_layer(engagement=engagement)
    entities = list(EntityMapping.objects.filter(engagement=engagement))
    lineage_tables, single_table_refs = _lineage_in_use(engagement)
    used = {t.lower() for t in lineage_tables if not t.startswith("(")}
    used |= {e.driving_table.lower() for e in entities if e.driving_table}
    catalog = _catalog_columns(engagement, used)
    changed = _changed_since_previous_version(layer)
    dropped = _dropped_source_rows(engagement, catalog, lineage_tables, single_table_refs)
    mappings = _mapping_facts(engagement, layer, changed, dropped)
    attributes = _contract_facts(layer, mappings)
    items: list[GapItem] = []
    items += _entity_gaps(entities)
    items += _attribute_gaps(mappings, attributes)
    items += _source_gaps(mappings, entities, catalog)
    items += _allowed_value_gaps(engagement, mappings, attributes, entities)
    items += _contract_change_gaps(layer, changed, mappings, attributes)
    items += _question_gaps(engagement)
    items.sort(key=lambda i: (SEVERITY_ORDER[i.severity], i.entity, i.attribute, i.category))
    return items


@dataclass(frozen=True, slots=True)
class _TargetFacts:
    """What the GAP needs of an interface attribute."""

    required: bool
    allowed_values: list


@dataclass(frozen=True, slots=True)
class _MappingFacts:
    """What the GAP needs of an attribute mapping: plain values, read in one query (a spec of
    20,000 attributes is analysed without building 20,000 model instances)."""

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


def _contract_facts(layer, mappings: list[_MappingFacts]) -> dict[tuple[str, str], _TargetFacts]:
    """The targets of the rows read (and no others): a row missing here is not in the contract."""
    if layer is None or not mappings:
        return {}
    rows = InterfaceAttribute.objects.filter(
        layer=layer,
        entity__name__in={m.entity for m in mappings},
        name__in={m.attribute_name for m in mappings},
    ).values_list("entity__name", "name", "required", "allowed_values")
    return {(e, a): _TargetFacts(required, allowed or []) for e, a, required, allowed in rows}


def _mapping_facts(engagement, layer, changed: dict, dropped: RawSQL | None) -> list[_MappingFacts]:
    """The rows the GAP can say something about, picked by the database (one UNION query): open
    and mandatory, with warnings, not feasible, reading a dropped source, a direct move into a
    list of allowed values, gone from the contract or under a contract change."""
    rows = AttributeMapping.objects.filter(engagement=engagement).order_by()
    picks = [rows.exclude(problems=[]), rows.filter(feasibility=Feasibility.NOT_FEASIBLE)]
    if dropped is not None:
        picks.append(rows.filter(pk__in=dropped))
    if layer is not None:
        picks += [
            rows.filter(contract_target(layer=layer, required=True), status__in=_OPEN),
            rows.filter(
                contract_target(~Q(allowed_values=[]), layer=layer),
                ~Q(lineage_tables=[]),
                transformation="",
            ).exclude(source_columns=""),
            rows.filter(~contract_target(layer=layer)).exclude(status=MappingStatus.UNMAPPED),
        ]
        if changed and layer.published_at:
            picks.append(
                rows.filter(
                    updated_at__lt=layer.published_at,
                    attribute_name__in={attribute for _entity, attribute in changed},
                )
            )
    names = ["pk", "entity_mapping__entity_name"]
    names += [f.name for f in fields(_MappingFacts) if f.name != "entity"]
    first, *rest = [pick.values_list(*names) for pick in picks]
    unique = {row[0]: row[1:] for row in first.union(*rest, all=True)}  # a row may match twice
    return [_MappingFacts(*row) for row in unique.values()]


def _entity_gaps(entities: list[EntityMapping]) -> list[GapItem]:
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


def _catalog_columns(engagement, names: set[str]) -> dict[str, set[str]]:
    """The named catalog tables (by lower-case `schema.table` and `table`) → their column names."""
    plain = {name.rsplit(".", 1)[-1] for name in names}
    columns: dict[str, set[str]] = {}
    rows = CatalogColumn.objects.filter(engagement=engagement, table__name__in=plain).values_list(
        "table__schema", "table__name", "name"
    )
    for schema, table, column in rows:
        # by `schema.table` exactly; by the plain name, the columns of every schema's table
        columns.setdefault(table.lower(), set()).add(column.lower())
        if schema:
            columns.setdefault(f"{schema}.{table}".lower(), set()).add(column.lower())
    for schema, name in CatalogTable.objects.filter(
        engagement=engagement, name__in=plain
    ).values_list("schema", "name"):
        columns.setdefault(name.lower(), set())  # a table without columns still exists
        if schema:
            columns.setdefault(f"{schema}.{name}".lower(), set())
    return columns


def _elements(column: str, alias: str) -> str:
    """The elements of a JSON list column as rows `alias.value`, spelled as the app's database
    spells it (the app runs on SQLite or PostgreSQL)."""
    if connection.vendor == "postgresql":
        return f"jsonb_array_elements_text({column}) AS {alias}(value)"
    return f"json_each({column}) AS {alias}"


def _single_table(column: str) -> str:
    length = "jsonb_array_length" if connection.vendor == "postgresql" else "json_array_length"
    return f"{length}({column}) = 1"


_ROWS = AttributeMapping._meta.db_table


def _lineage_in_use(engagement) -> tuple[set[str], set[tuple[str, str]]]:
    """Every table the rules read, and every (table, "alias.column") read by a rule over one
    table: distinct values, from the database (two queries, whatever the number of rows)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT t.value FROM {_ROWS} m, {_elements('m.lineage_tables', 't')} "
            "WHERE m.engagement_id = %s",
            [engagement.pk],
        )
        tables = {table for (table,) in cursor.fetchall()}
        cursor.execute(
            f"SELECT DISTINCT m.lineage_tables ->> 0, r.value "
            f"FROM {_ROWS} m, {_elements('m.lineage', 'r')} "
            f"WHERE m.engagement_id = %s AND {_single_table('m.lineage_tables')}",
            [engagement.pk],
        )
        refs = {(table, ref) for table, ref in cursor.fetchall()}
    return tables, refs


def _column(reference: str) -> str:
    return reference.split(".", 1)[1].strip('"')


def _dropped_source_rows(engagement, catalog, tables, refs) -> RawSQL | None:
    """The rows reading a table the catalog no longer has, or (rules over one table) a column
    it no longer has, as a subquery of their ids; None when there are none."""
    gone_tables = sorted(t for t in tables if not t.startswith("(") and t.lower() not in catalog)
    gone_refs = sorted(
        (table, ref)
        for table, ref in refs
        if not table.startswith("(")
        and table.lower() in catalog
        and _column(ref).lower() not in catalog[table.lower()]
    )
    if not gone_tables and not gone_refs:
        return None
    conditions, params = [], [engagement.pk]
    if gone_tables:
        conditions.append(
            f"EXISTS (SELECT 1 FROM {_elements('m.lineage_tables', 't')} "
            f"WHERE t.value IN ({', '.join(['%s'] * len(gone_tables))}))"
        )
        params += gone_tables
    if gone_refs:
        pairs = ", ".join(["(%s, %s)"] * len(gone_refs))
        conditions.append(
            f"({_single_table('m.lineage_tables')} AND EXISTS (SELECT 1 FROM "
            f"{_elements('m.lineage', 'r')} WHERE (m.lineage_tables ->> 0, r.value) IN ({pairs})))"
        )
        params += [value for pair in gone_refs for value in pair]
    return RawSQL(
        f"SELECT m.id FROM {_ROWS} m WHERE m.engagement_id = %s AND ({' OR '.join(conditions)})",
        params,
    )


def _source_gaps(mappings, entities, catalog) -> list[GapItem]:
    """Lineage pointing at a column the catalog no longer has (after a re-introspection)."""
    items = []
    for entity in entities:
        if entity.driving_table and entity.driving_table.lower() not in catalog:
            items.append(
                GapItem(
                    entity.entity_name,
                    "",
                    CATEGORIES["source_dropped"],
                    f"The driving table {entity.driving_table} is no longer in the Mart.",
                    HIGH,
                    "Choose another driving table.",
                )
            )
    for mapping in mappings:
        for table_name in mapping.lineage_tables:
            if table_name.startswith("("):
                continue  # a lookup's own columns
            table = catalog.get(table_name.lower())
            columns = [ref.split(".", 1)[1].strip('"') for ref in mapping.lineage]
            missing = (
                [c for c in columns if c.lower() not in table]
                if table is not None
                else ["(table dropped)"]
            )
            if table is None or (missing and len(mapping.lineage_tables) == 1):
                items.append(
                    GapItem(
                        mapping.entity,
                        mapping.attribute_name,
                        CATEGORIES["source_dropped"],
                        f"{table_name}: {', '.join(missing)} no longer in the Mart.",
                        HIGH,
                        "Re-map the attribute from the current catalog.",
                    )
                )
    return items


def _allowed_value_gaps(engagement, mappings, attributes, entities) -> list[GapItem]:
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


def _question_gaps(engagement) -> list[GapItem]:
    questions = MappingComment.objects.filter(
        engagement=engagement, kind=CommentKind.QUESTION, resolved=False, parent__isnull=True
    ).select_related("entity_mapping", "attribute_mapping", "author")
    return [
        GapItem(
            q.entity_mapping.entity_name,
            q.attribute_mapping.attribute_name if q.attribute_mapping else "",
            CATEGORIES["question"],
            f"{q.author.get_full_name() or q.author.username}: {q.text[:200]}",
            LOW,
            "Answer the question and resolve the thread.",
        )
        for q in questions
    ]


def gap_counts(items: list[GapItem]) -> list[dict]:
    """Items per category and severity, most severe first."""
    counts: dict[tuple[str, str], int] = {}
    for item in items:
        counts[(item.severity, item.category)] = counts.get((item.severity, item.category), 0) + 1
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
