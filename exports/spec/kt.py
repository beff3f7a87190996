"""Knowledge-transfer documentation, generated from the live mapping: how the interface layer is
populated (per entity: source tables, joins, filter, load order, frequency, each attribute's rule in
plain language and its SQL), the mapping document, the pipeline design and a troubleshooting guide.

The same context renders the browsable pages and the downloadable archive (HTML files with
relative links). SQL is built from sqlglot trees (never from concatenated text).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from sqlglot import exp

from contracts.models import InterfaceRelationship
from contracts.selectors import published_layer
from mappings.choices import MappingStatus
from mappings.compiled import CompiledAttribute, CompiledEntity, compile_engagement
from mappings.models import AttributeMapping
from mappings.selectors.mapping import contract_load_order

from . import layout as L

DIALECT = "postgres"


@dataclass
class KtAttribute:
    name: str
    required: bool
    data_type: str
    status: str
    plain: str
    sql: str
    edge_cases: str
    default: str
    lineage: list[str]
    sources: list[str] = field(default_factory=list)  # "table.column" the rule reads
    logic: str = ""  # the SQL on one line


@dataclass
class KtEntity:
    name: str
    description: str
    load_position: int | None
    depends_on: list[str]
    driving_table: str
    alias: str
    joins: list[dict]
    filter: str
    frequency: str
    notes: str
    status: str
    select_sql: str
    problems: list[str]
    attributes: list[KtAttribute] = field(default_factory=list)
    url: str = ""
    # The entity's source rows in DIALECT — `SELECT * FROM driving JOIN … WHERE filter` — and the
    # filter alone: what every attribute's `logic` reads (empty while the FROM clause is invalid).
    source_query: str = ""
    filter_sql: str = ""

    @property
    def mapped_count(self) -> int:
        return sum(1 for a in self.attributes if a.sql)

    @property
    def source_tables(self) -> list[str]:
        tables = [self.driving_table] if self.driving_table else []
        return tables + [j["table"] for j in self.joins if j["table"] not in tables]


def kt_entities(*, engagement) -> list[KtEntity]:
    """Every entity mapping in load order, with its SQL rebuilt from the compiled rules."""
    layer = published_layer(engagement=engagement)
    order = contract_load_order(engagement=engagement)
    descriptions = {}
    if layer is not None:
        descriptions = dict(layer.entities.values_list("name", "description"))
    compiled = sorted(
        compile_engagement(engagement=engagement),
        key=lambda c: (order.position(c.name) or 10_000, c.name),
    )
    depends: dict[str, set[str]] = {}
    if layer is not None:
        edges = (
            InterfaceRelationship.objects.filter(layer=layer)
            .internal()
            .values_list("from_attribute__entity__name", "to_attribute__entity__name")
        )
        for child, parent in edges:
            if child != parent:
                depends.setdefault(child, set()).add(parent)
    return [_entity(entity, order, descriptions, depends) for entity in compiled]


def _join(join: exp.Join) -> dict:
    table = join.this
    name = (
        ".".join(p for p in (table.db, table.name) if p)
        if isinstance(table, exp.Table)
        else "(lookup)"
    )
    return {
        "table": name,
        "alias": table.alias,
        "kind": " ".join(
            p for p in (join.args.get("side", ""), join.args.get("kind", "")) if p
        ).upper()
        or "INNER",
        "on": join.args["on"].sql(dialect=DIALECT) if join.args.get("on") else "",
        "sql": join.sql(dialect=DIALECT),
    }


def _entity(compiled: CompiledEntity, order, descriptions, depends) -> KtEntity:
    entity = compiled.entity_mapping
    # Contract order, then the mappings the contract no longer has (in row order).
    attributes: list[KtAttribute] = []
    columns: list[exp.Expr] = []
    for compiled_attribute in compiled.attributes:
        mapping = compiled_attribute.mapping
        if mapping is None:  # not mapped
            continue
        target_attribute = compiled_attribute.contract_attribute
        tree, sources = _rule_tree(compiled_attribute, mapping)
        if tree is not None:
            columns.append(exp.alias_(tree, mapping.attribute_name))
        attributes.append(
            KtAttribute(
                name=mapping.attribute_name,
                required=bool(target_attribute and target_attribute.required),
                data_type=(
                    (target_attribute.physical_type or target_attribute.logical_type)
                    if target_attribute
                    else ""
                ),
                status=L.MAPPING_STATUS.get(mapping.status, mapping.status),
                plain=rule_in_plain_language(mapping, tree),
                sql=tree.sql(dialect=DIALECT, pretty=True) if tree is not None else "",
                edge_cases=mapping.edge_cases,
                default=mapping.default_value,
                lineage=list(mapping.lineage),
                sources=sources,
                logic=tree.sql(dialect=DIALECT) if tree is not None else "",
            )
        )
    clause = compiled.from_clause
    select_sql = source_query = ""
    if clause.driving is not None and clause.ok:
        source_query = compiled.select([exp.Star()]).sql(dialect=DIALECT)
        if columns:
            select_sql = compiled.select(columns).sql(dialect=DIALECT, pretty=True)
    return KtEntity(
        name=entity.entity_name,
        description=descriptions.get(entity.entity_name, ""),
        load_position=order.position(entity.entity_name),
        depends_on=sorted(depends.get(entity.entity_name, [])),
        driving_table=entity.driving_table,
        alias=entity.driving_alias,
        joins=[_join(join) for join in clause.joins],
        filter=entity.filter,
        frequency=entity.frequency,
        notes=entity.notes,
        status=L.ENTITY_STATUS.get(entity.status, entity.status),
        select_sql=select_sql,
        problems=[p.get("message", "") for p in entity.problems if p.get("level") == "error"],
        attributes=attributes,
        source_query=source_query,
        filter_sql=compiled.where.sql(dialect=DIALECT) if compiled.where is not None else "",
    )


def _rule_tree(
    attribute: CompiledAttribute, mapping: AttributeMapping
) -> tuple[exp.Expr | None, list[str]]:
    """The attribute's SQL as a fresh tree — the compiled rule, with COALESCE to the default where
    one is set — and the source columns it reads as "table.column". `mapping` is the attribute's
    mapping (`attribute.mapping`, known to be set)."""
    if mapping.rule:
        if attribute.tree is None:
            return None, []
        return attribute.value(), [
            f"{table}.{column}" for _alias, table, column in attribute.lineage
        ]
    if attribute.default is not None and mapping.status in (
        MappingStatus.DEFAULT_ONLY,
        MappingStatus.MAPPED,
    ):
        return attribute.default.copy(), []
    return None, []


def odcs_lineage(*, engagement) -> tuple[dict[str, dict], dict[tuple[str, str], dict]]:
    """The ODCS export's lineage: each mapped entity's source (`odcs_sources`) and each mapped
    attribute's transform fields (`odcs_transforms`), compiled once."""
    entities = kt_entities(engagement=engagement)
    return odcs_sources(entities), odcs_transforms(entities)


def odcs_sources(entities: list[KtEntity]) -> dict[str, dict]:
    """Per mapped entity, the source its properties' transformLogic reads, for the ODCS export:
    the driving table and alias, the joins, the filter, and all of them as one SELECT, in the
    dialect the transformLogic is written in."""
    return {
        entity.name: {
            "dialect": DIALECT,
            "drivingTable": entity.driving_table,
            "alias": entity.alias,
            "joins": [join["sql"] for join in entity.joins],
            "filter": entity.filter_sql,
            "sourceQuery": entity.source_query,
        }
        for entity in entities
        if entity.source_query
    }


def odcs_transforms(entities: list[KtEntity]) -> dict[tuple[str, str], dict]:
    """Per mapped attribute, the ODCS v3.1 property fields that carry its lineage:
    transformSourceObjects, transformLogic, transformDescription."""
    transforms = {}
    for entity in entities:
        for attribute in entity.attributes:
            if not attribute.logic:
                continue
            transforms[(entity.name, attribute.name)] = {
                "transformSourceObjects": attribute.sources
                or ([entity.driving_table] if entity.driving_table else []),
                "transformLogic": attribute.logic,
                "transformDescription": attribute.plain,
            }
    return transforms


_WORDS = {
    exp.Cast: "converted to {type}",
    exp.TryCast: "converted to {type} where possible",
    exp.Case: "translated value by value",
    exp.Coalesce: "the first value present",
    exp.Trim: "trimmed",
    exp.Upper: "in upper case",
    exp.Lower: "in lower case",
    exp.Initcap: "capitalised",
    exp.Substring: "cut to a part",
    exp.Concat: "joined together",
    exp.DPipe: "joined together",
    exp.RegexpReplace: "cleaned with a pattern",
    exp.Round: "rounded",
}


def rule_in_plain_language(mapping: AttributeMapping, tree: exp.Expr | None) -> str:
    """One or two sentences an L2 operator can read: where the value comes from, what is done to
    it, and what happens when it is missing."""
    status = mapping.status
    default = mapping.default_value.strip()
    if status == MappingStatus.NOT_APPLICABLE:
        return "Not applicable to this Mart: left empty."
    if status == MappingStatus.BLOCKED:
        return "Blocked: no rule can be written yet (see the GAP document)."
    if not mapping.rule:
        if default:
            return f"Always set to '{default}' (the Mart has no source for it)."
        return "Not mapped yet."
    columns = ", ".join(mapping.lineage) or "constants"
    if not mapping.transformation.strip():
        sentence = f"Copied as is from {columns}"
    else:
        steps: list[str] = []
        node = tree.this if isinstance(tree, exp.Coalesce) and default else tree
        while node is not None and len(steps) < 3:
            node = node.unnest() if isinstance(node, exp.Paren) else node
            word = next((w for kind, w in _WORDS.items() if isinstance(node, kind)), None)
            if word is None:
                break
            target_type = node.to.sql() if isinstance(node, exp.Cast) else ""
            steps.append(word.format(type=target_type.lower() or "the attribute's type"))
            if isinstance(node, exp.Case | exp.Coalesce):
                break
            node = node.this if isinstance(node.this, exp.Expression) else None
        how = f", {', then '.join(reversed(steps))}" if steps else ", computed by the SQL below"
        sentence = f"Taken from {columns}{how}"
    if default:
        sentence += f". When that is empty, the default '{default}' is loaded"
    return sentence + "."


def pipeline_url(slug: str) -> str:
    """The ETL pipeline design page (issue 8), once that part of the workbench is installed."""
    for name in ("etl-design", "etl-overview"):
        try:
            return reverse(name, args=[slug])
        except NoReverseMatch:
            continue
    return ""


def kt_archive(*, engagement, generated_by: str) -> bytes:
    """The KT documentation as a zip of HTML pages with relative links."""
    entities = kt_entities(engagement=engagement)
    for entity in entities:
        entity.url = f"entity-{entity.name}.html"
    base = {
        "engagement": engagement,
        "entities": entities,
        "archive": True,
        "generated_at": timezone.now(),
        "generated_by": generated_by,
        "links": {
            "index": "index.html",
            "mapping": "mapping.html",
            "troubleshooting": "troubleshooting.html",
        },
        "pipeline_url": "",
    }
    buffer = io.BytesIO()
    folder = f"{engagement.slug}-kt"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}/index.html", render_to_string("exports/kt/index.html", base))
        archive.writestr(
            f"{folder}/mapping.html", render_to_string("exports/kt/mapping.html", base)
        )
        archive.writestr(
            f"{folder}/troubleshooting.html",
            render_to_string("exports/kt/troubleshooting.html", base),
        )
        for entity in entities:
            archive.writestr(
                f"{folder}/{entity.url}",
                render_to_string("exports/kt/entity.html", {**base, "entity": entity}),
            )
    return buffer.getvalue()
