"""The ETL plan: what the generated SQL, the dbt project, the DAG and the test runs are made of.

Everything is read once from the published contract and the mapping and kept as sqlglot trees:
per interface entity its target columns (with types), its FROM clause (driving table and joins)
and filter, and each attribute's value (the rule's tree, COALESCE'd with the default, CAST to the
target type) — all taken from the compiled entity (`mappings.compiled`), never parsed again here.
Rendering per dialect happens in `exports.etl.sql`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from sqlglot import exp
from sqlglot.errors import ParseError

from catalog.dialects import as_written, inexpressible
from contracts.models import InterfaceAttribute, InterfaceEntity, InterfaceRelationship
from contracts.selectors import published_layer
from mappings.choices import LoadStrategy, MappingStatus
from mappings.compiled import CompiledAttribute, CompiledEntity, compile_engagement
from mappings.models import AttributeMapping, EntityMapping
from mappings.selectors.mapping import contract_load_order
from mappings.strategies import resolve_strategy, strategy_problem
from signoff.selectors import SpecStamp, spec_stamp
from workbench.models import Engagement


@dataclass
class Column:
    """One interface column: its contract attribute and what the mapping computes for it."""

    name: str
    attribute: InterfaceAttribute
    data_type: exp.DataType
    value: exp.Expression  # CAST(COALESCE(rule, default) AS type) — the loaded value
    rule: exp.Expr | None  # the mapping rule alone (None: unmapped)
    mapping: AttributeMapping | None
    # target dialect → why it cannot express the rule (written in the Mart's dialect)
    inexpressible: dict[str, str] = field(default_factory=dict)

    @property
    def logical_type(self) -> str:
        return self.attribute.logical_type or "string"

    @property
    def required(self) -> bool:
        return self.attribute.required

    @property
    def primary_key(self) -> bool:
        return self.attribute.primary_key

    @property
    def max_length(self) -> int | None:
        if self.logical_type != "string":
            return None
        return self.attribute.max_length or self.attribute.length or _type_length(self.data_type)

    @property
    def precision_scale(self) -> tuple[int, int] | None:
        if self.logical_type != "number":
            return None
        if self.attribute.precision:
            return self.attribute.precision, self.attribute.scale or 0
        params = [e for e in self.data_type.expressions if isinstance(e, exp.DataTypeParam)]
        if params and self.data_type.this == exp.DataType.Type.DECIMAL:
            precision = int(params[0].name)
            scale = int(params[1].name) if len(params) > 1 else 0
            return precision, scale
        return None


@dataclass
class ForeignKey:
    """A key of one or more columns (a composite key's pairs in key order)."""

    columns: tuple[str, ...]
    parent_entity: str
    parent_table: str
    parent_columns: tuple[str, ...]

    @property
    def label(self) -> str:
        return ", ".join(self.columns)


@dataclass
class EntityPlan:
    name: str
    table: str  # the interface table's physical name
    description: str
    mapping: EntityMapping | None
    columns: list[Column] = field(default_factory=list)
    driving: exp.Expr | None = None  # the driving table with its alias
    joins: list[exp.Join] = field(default_factory=list)
    where: exp.Expr | None = None
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    skipped: str = ""  # why the entity is not loaded ("" when it is)
    dialect: str = ""  # the Mart's: the dialect its rules, joins and filter are written in
    # the joins' and the filter's: target dialect → why it cannot express them
    from_inexpressible: dict[str, str] = field(default_factory=dict)
    strategy: str = LoadStrategy.FULL_REFRESH  # resolved (mappings.strategies)
    watermark: str = ""  # the column an append loads past
    deleted_where: exp.Expr | None = None  # source rows that count as deleted

    @property
    def loadable(self) -> bool:
        return not self.skipped

    def refusals(self, dialect: str) -> list[str]:
        """Why `dialect` cannot express this entity's SQL, one line per rule ("" when it can)."""
        out = []
        if dialect in self.from_inexpressible:
            out.append(
                f"The FROM clause or filter of {self.name} cannot be expressed in {dialect}: "
                + self.from_inexpressible[dialect]
            )
        out += [
            f"The rule of {self.name}.{c.attribute.name} cannot be expressed in {dialect}: "
            + c.inexpressible[dialect]
            for c in self.columns
            if dialect in c.inexpressible
        ]
        if dialect == "spark":
            out += [
                f"The column {self.name}.{c.attribute.name} cannot be loaded on spark: {reason}"
                for c in self.columns
                if (reason := spark_type_refusal(c.value))
            ]
        return out

    @property
    def primary_key(self) -> list[str]:
        keyed = [c for c in self.columns if c.primary_key]
        keyed.sort(key=lambda c: c.attribute.primary_key_position or 0)
        return [c.name for c in keyed]

    @property
    def frequency(self) -> str:
        return (self.mapping.frequency if self.mapping else "") or "daily"

    @property
    def schedule(self) -> str:
        """The orchestrator's schedule: @hourly, @daily, … or the cron text as written ("": on
        demand, no schedule)."""
        return SCHEDULES.get(self.frequency.lower(), self.frequency)

    @property
    def strategy_label(self) -> str:
        return LoadStrategy(self.strategy).label

    @property
    def unique_columns(self) -> list[str]:
        """Columns the contract says are unique, other than a one-column primary key."""
        single_key = self.primary_key if len(self.primary_key) == 1 else []
        return [c.name for c in self.columns if c.attribute.unique and c.name not in single_key]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass
class EtlPlan:
    engagement: Engagement
    contract_name: str
    contract_version: str
    entities: list[EntityPlan]  # in load order (entities caught in a cycle last)
    cycle: list[str]
    stamp: SpecStamp  # the spec version and content hash every artifact carries

    @property
    def content_hash(self) -> str:
        return self.stamp.content_hash

    @property
    def load_order(self) -> list[str]:
        return [e.name for e in self.entities if e.loadable]

    @property
    def loadable(self) -> list[EntityPlan]:
        return [e for e in self.entities if e.loadable]

    def entity(self, name: str) -> EntityPlan:
        return next(e for e in self.entities if e.name == name)

    def restrict_to(self, dialect: str) -> EtlPlan:
        """Skip, for generating in `dialect`, every entity with SQL that dialect cannot express
        (the rule is refused by name, never emitted as something else)."""
        for entity in self.entities:
            refusals = entity.refusals(dialect)
            if refusals and not entity.skipped:
                entity.skipped = "; ".join(refusals)
        return self


SCHEDULES = {
    "hourly": "@hourly",
    "daily": "@daily",
    "weekly": "@weekly",
    "monthly": "@monthly",
    "on demand": "",
}


# --- types ----------------------------------------------------------------------------------

_LOGICAL = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DECIMAL(38, 10)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "time": "TIME",
}


# Spark (4.x, Databricks alike) has no type for a time of day nor for JSON text; sqlglot writes
# TIME as TIMESTAMP there, which would load another value than the contract's. A column that needs
# one is refused by name on Spark (the entity is left out and named), never declared as another.
_SPARK_UNDECLARABLE = {
    exp.DataType.Type.TIME: "Spark has no TIME type (a time of day)",
    exp.DataType.Type.TIMETZ: "Spark has no TIME type (a time of day)",
    exp.DataType.Type.JSON: "Spark has no JSON type",
}


def spark_type_refusal(value: exp.Expr) -> str:
    """Why Spark cannot hold the types `value` declares or casts to ("" when it can)."""
    for data_type in value.find_all(exp.DataType):
        if data_type.this in _SPARK_UNDECLARABLE:
            return _SPARK_UNDECLARABLE[data_type.this] + "."
    return ""


def _type_length(data_type: exp.DataType) -> int | None:
    if data_type.this not in exp.DataType.TEXT_TYPES and data_type.this not in (
        exp.DataType.Type.CHAR,
        exp.DataType.Type.NCHAR,
    ):
        return None
    params = [e for e in data_type.expressions if isinstance(e, exp.DataTypeParam)]
    return int(params[0].name) if params and params[0].name.isdigit() else None


def target_type(attribute: InterfaceAttribute) -> exp.DataType:
    """The column type: the contract's physical type where sqlglot reads it, else from the
    logical type (a string with a maximum length becomes VARCHAR(n))."""
    if attribute.physical_type:
        try:
            return exp.DataType.build(attribute.physical_type)
        except (ParseError, ValueError):
            pass
    logical = attribute.logical_type or "string"
    if logical == "string" and (attribute.max_length or attribute.length):
        return exp.DataType.build(f"VARCHAR({attribute.max_length or attribute.length})")
    if logical == "number" and attribute.precision:
        return exp.DataType.build(f"DECIMAL({attribute.precision}, {attribute.scale or 0})")
    return exp.DataType.build(_LOGICAL.get(logical, "VARCHAR"))


# --- building the plan ------------------------------------------------------------------------


def build_plan(*, engagement: Engagement) -> EtlPlan:
    """Read the published contract and the mapping into trees; raise ValidationError with a clear
    message when there is nothing to generate from (no published contract, no mapping)."""
    layer = published_layer(engagement=engagement)
    if layer is None:
        raise ValidationError("There is no published contract: publish the Interface Layer first.")
    entities = list(InterfaceEntity.objects.filter(layer=layer).order_by("position"))
    attributes = list(
        InterfaceAttribute.objects.filter(layer=layer).order_by("entity__position", "position")
    )
    declared = list(
        InterfaceRelationship.objects.filter(layer=layer)
        .select_related("from_attribute__entity", "to_attribute__entity")
        .order_by("pk")
    )
    relationships = [rel for rel in declared if not rel.is_external]
    keys = _foreign_keys(declared)
    compiled = {c.name: c for c in compile_engagement(engagement=engagement)}
    if not compiled:
        raise ValidationError("Nothing is mapped yet: prepare and write the mapping first.")
    by_entity: dict[int, list[InterfaceAttribute]] = {}
    for attribute in attributes:
        by_entity.setdefault(attribute.entity_id, []).append(attribute)
    order = contract_load_order(engagement=engagement)
    rank = {name: i for i, name in enumerate(order.order)}
    entities.sort(key=lambda e: (rank.get(e.name, len(rank)), e.position))

    plans = []
    for entity in entities:
        plan = _entity_plan(entity, by_entity.get(entity.pk, []), compiled.get(entity.name))
        plan.foreign_keys = keys.get(entity.pk, [])
        if entity.name in order.cycle and not plan.skipped:
            plan.skipped = "It is part of a relationship cycle: the load order is undefined."
        plans.append(plan)
    _apply_strategies(plans, relationships)
    return EtlPlan(
        engagement=engagement,
        contract_name=layer.name,
        contract_version=layer.version,
        entities=plans,
        cycle=order.cycle,
        stamp=spec_stamp(engagement=engagement),
    )


def _foreign_keys(declared: list[InterfaceRelationship]) -> dict[int, list[ForeignKey]]:
    """Each child entity's keys: a composite key's column pairs make one key, in key order. A
    key with a pair outside the contract (or unresolved in it) cannot be enforced: none is made."""
    pairs_of: dict[tuple, list[InterfaceRelationship]] = {}
    for rel in declared:
        pairs_of.setdefault(("group", rel.group) if rel.group else ("one", rel.pk), []).append(rel)
    keys: dict[int, list[ForeignKey]] = {}
    for pairs in pairs_of.values():
        pairs.sort(key=lambda rel: rel.key_position or 0)
        targets = [rel.to_attribute for rel in pairs if rel.to_attribute is not None]
        if len(targets) < len(pairs):
            continue
        parent = targets[0].entity
        keys.setdefault(pairs[0].from_attribute.entity_id, []).append(
            ForeignKey(
                columns=tuple(rel.from_attribute.name for rel in pairs),
                parent_entity=parent.name,
                parent_table=parent.physical_name or parent.name,
                parent_columns=tuple(t.name for t in targets),
            )
        )
    return keys


def _apply_strategies(plans: list[EntityPlan], relationships) -> None:
    """Resolve each entity's load strategy; one the contract does not allow skips the entity."""
    referenced_by: dict[str, set[str]] = {}
    for rel in relationships:
        child, parent = rel.from_attribute.entity.name, rel.to_attribute.entity.name
        if child != parent:
            referenced_by.setdefault(parent, set()).add(child)
    for plan in plans:
        chosen = plan.mapping.load_strategy if plan.mapping is not None else ""
        plan.strategy = resolve_strategy(chosen, primary_key=plan.primary_key)
        plan.watermark = plan.mapping.watermark if plan.mapping is not None else ""
        if plan.watermark:
            plan.watermark = next(
                (c.name for c in plan.columns if c.attribute.name == plan.watermark),
                plan.watermark,
            )
        problem = strategy_problem(
            plan.strategy,
            entity=plan.name,
            primary_key=plan.primary_key,
            watermark=plan.watermark,
            attributes=[c.name for c in plan.columns],
            referenced_by=sorted(referenced_by.get(plan.name, ())),
        )
        if problem and not plan.skipped:
            plan.skipped = problem


def _entity_plan(
    entity: InterfaceEntity,
    attributes: list[InterfaceAttribute],
    compiled: CompiledEntity | None,
) -> EntityPlan:
    plan = EntityPlan(
        name=entity.name,
        table=entity.physical_name or entity.name,
        description=entity.description,
        mapping=compiled.entity_mapping if compiled is not None else None,
        dialect=compiled.dialect if compiled is not None else "",
    )
    rules_usable = _apply_from(plan, compiled)
    for attribute in attributes:
        compiled_attribute = compiled.attribute(attribute.name) if compiled is not None else None
        plan.columns.append(_column(plan, attribute, compiled_attribute, rules_usable))
    return plan


def _apply_from(plan: EntityPlan, compiled: CompiledEntity | None) -> bool:
    """Take the FROM clause and the filter from the compiled entity, or say why the entity is not
    loaded. True when its rules can be used (the FROM clause validates)."""
    if compiled is None or not compiled.entity_mapping.driving_table:
        plan.skipped = "It has no driving table yet."
        return False
    clause = compiled.from_clause
    if not clause.ok:
        plan.skipped = "Its FROM clause does not validate: " + "; ".join(
            str(p) for p in clause.problems if p.level == "error"
        )
        return False
    plan.driving = as_written(clause.driving, plan.dialect) if clause.driving else None
    plan.joins = [as_written(join, plan.dialect) for join in clause.joins]
    for join in clause.joins:
        for target, reason in inexpressible(join, plan.dialect).items():
            plan.from_inexpressible.setdefault(target, reason)
    if compiled.delete_condition is not None:
        if not compiled.delete_condition.ok:
            plan.skipped = "Its delete condition does not validate: " + "; ".join(
                str(p) for p in compiled.delete_condition.errors
            )
            return True
        deleted = compiled.deleted_where
        if deleted is not None:
            plan.deleted_where = as_written(deleted, plan.dialect)
            for target, reason in inexpressible(deleted, plan.dialect).items():
                plan.from_inexpressible.setdefault(target, reason)
    if compiled.filter is not None:
        if not compiled.filter.ok:
            plan.skipped = "Its filter does not validate: " + "; ".join(
                str(p) for p in compiled.filter.errors
            )
        else:
            where = compiled.filter.tree
            if where is not None:
                plan.where = as_written(where, plan.dialect)
                for target, reason in inexpressible(where, plan.dialect).items():
                    plan.from_inexpressible.setdefault(target, reason)
    return True


_RULE_IGNORED = (MappingStatus.NOT_APPLICABLE, MappingStatus.DEFAULT_ONLY)


def _column(
    plan: EntityPlan,
    attribute: InterfaceAttribute,
    compiled: CompiledAttribute | None,
    rules_usable: bool,
) -> Column:
    """The column loaded for one contract attribute: CAST(COALESCE(rule, default) AS type).
    A rule that does not validate, or a required attribute with nothing to load, skips the
    entity (the first reason found is kept)."""
    mapping = compiled.mapping if compiled is not None else None
    data_type = target_type(attribute)
    rule_tree = None
    if (
        compiled is not None
        and mapping is not None
        and mapping.rule
        and mapping.status not in _RULE_IGNORED
        and rules_usable
    ):
        checked = compiled.checked
        if checked is not None and not checked.ok:  # i.e. not compiled.ok
            plan.skipped = plan.skipped or (
                f"The rule of {attribute.name} does not validate: "
                + "; ".join(str(p) for p in checked.errors)
            )
        else:
            rule_tree = compiled.tree
    default = compiled.default if compiled is not None else None
    if compiled is not None and rule_tree is not None:
        value = compiled.value()
    else:
        value = default.copy() if default is not None else exp.null()
    if (
        attribute.required
        and rule_tree is None
        and default is None
        and not plan.skipped
        and plan.mapping is not None
    ):
        plan.skipped = f"The required attribute {attribute.name} has no rule and no default."
    return Column(
        name=attribute.physical_name or attribute.name,
        attribute=attribute,
        data_type=data_type,
        value=exp.Cast(
            this=as_written(value, plan.dialect) if value is not None else exp.null(),
            to=data_type.copy(),
        ),
        rule=as_written(rule_tree, plan.dialect) if rule_tree is not None else None,
        mapping=mapping,
        inexpressible=inexpressible(rule_tree, plan.dialect) if rule_tree is not None else {},
    )
