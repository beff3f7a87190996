"""One compiled entity: an entity mapping's SQL checked once, read by every consumer.

DESIGN.md, decision 2: one module compiles an entity — its scope (aliases → catalog tables), its
FROM clause (driving table, joins, filter) and each attribute's rule — and the mapping services,
the ETL plan, the KT documentation, the suggestions and the unit tests read that. Nothing else
calls the checks of `mappings.expressions`, so a rule means the same thing everywhere.

`compile_entity` is pure (the catalog, contract and rows are handed in); the `compile_*` loaders
below it read what it needs in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp

from catalog.dialects import dialect_label
from contracts.models import InterfaceAttribute
from workbench.models import Engagement

from .expressions import (
    Checked,
    FromClause,
    Scope,
    SqlRuleError,
    TableInfo,
    Target,
    check_expression,
    check_filter,
    check_from,
    default_literal,
    default_problems,
    narrow_scope,
    not_null_columns,
    parse,
)
from .models import AttributeMapping, EntityMapping
from .selectors.mapping import (
    attribute_target,
    catalog_index,
    contract_attributes,
    referenced_tables,
)

DIRECT_MOVE_ERROR = (
    "A direct move names exactly one alias.column; write anything else as a transformation."
)


def is_direct_move(text: str, dialect: str = "") -> bool:
    """Exactly one `alias.column` as the dialect reads it: a keyword, a quoted mixed-case or a
    non-ASCII column name included."""
    try:
        tree = parse(text, dialect=dialect)
    except SqlRuleError:
        return False
    return (
        isinstance(tree, exp.Column)
        and isinstance(tree.this, exp.Identifier)
        and bool(tree.table)
        and not tree.args.get("db")
    )


def rules_dialect(*, driving_table: str, catalog: Mapping[str, TableInfo]) -> str:
    """The SQL dialect of an entity's rules: its driving table's source system's ("" — generic
    SQL — while the driving table is not in the catalog)."""
    info = catalog.get((driving_table or "").strip().lower())
    return info.dialect if info is not None else ""


@dataclass(frozen=True)
class CompiledAttribute:
    """One interface attribute of the entity: what it expects and its mapping's checked rule."""

    name: str
    target: Target
    contract_attribute: InterfaceAttribute | None  # None: the contract does not have it
    mapping: AttributeMapping | None  # None: not mapped (or not handed in)
    checked: Checked | None  # the rule checked against the filtered scope; None: no rule
    default: exp.Expr | None  # the default value as a typed literal; None: no default

    @property
    def ok(self) -> bool:
        """The rule validates (an attribute without a rule has nothing wrong with it)."""
        return self.checked is None or self.checked.ok

    @property
    def tree(self) -> exp.Expr | None:
        """The rule's tree when it validates, else None. Shared: copy it before embedding it."""
        if self.checked is None or not self.checked.ok:
            return None
        return self.checked.tree

    @property
    def lineage(self) -> list[tuple[str, str, str]]:
        """(alias, table, column) the rule reads."""
        return list(self.checked.lineage) if self.checked is not None else []

    def value(self) -> exp.Expr | None:
        """A fresh tree of the value to load: COALESCE(rule, default), the rule or the default
        alone; None when there is neither (a rule that does not validate counts as none)."""
        parts = [part.copy() for part in (self.tree, self.default) if part is not None]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return exp.Coalesce(this=parts[0], expressions=[parts[1]])


@dataclass(frozen=True)
class CompiledEntity:
    """An entity mapping compiled against the catalog and the contract."""

    entity_mapping: EntityMapping
    from_clause: FromClause  # driving table and joins as trees, their problems, the scope
    filter: Checked | None  # None: the entity has no filter
    filtered_scope: Scope  # the scope after the filter: columns it keeps non-NULL are not nullable
    # None: no delete condition (source rows it matches are not loaded; a merge purges them)
    delete_condition: Checked | None = None
    # In contract order, then the mappings of names the contract lacks (in the order handed in).
    attributes: tuple[CompiledAttribute, ...] = ()

    @property
    def name(self) -> str:
        return self.entity_mapping.entity_name

    @property
    def scope(self) -> Scope:
        return self.from_clause.scope

    @property
    def dialect(self) -> str:
        """The SQL dialect the entity's rules are written, parsed and stored in (the Mart's)."""
        return self.scope.dialect

    @property
    def dialect_label(self) -> str:
        """How the pages name it, e.g. "PostgreSQL SQL"."""
        return dialect_label(self.dialect)

    @property
    def alias_tables(self) -> dict[str, str]:
        """Alias → the table's name, as the pages label lineage."""
        return {alias: table.name for alias, table in self.scope.aliases.items()}

    @property
    def where(self) -> exp.Expr | None:
        """The filter's tree when it validates, else None."""
        if self.filter is None or not self.filter.ok:
            return None
        return self.filter.tree

    @property
    def deleted_where(self) -> exp.Expr | None:
        """The delete condition's tree when it validates, else None."""
        if self.delete_condition is None or not self.delete_condition.ok:
            return None
        return self.delete_condition.tree

    def attribute(self, name: str) -> CompiledAttribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def target(self, attribute_name: str) -> Target:
        """What the interface attribute expects (nothing, for a name the contract lacks)."""
        attribute = self.attribute(attribute_name)
        return attribute.target if attribute is not None else Target()

    def select(self, columns: list[exp.Expr]) -> exp.Select:
        """`SELECT columns FROM driving JOIN … WHERE filter`, built from copies of the trees."""
        driving = self.from_clause.driving
        assert driving is not None, "select() of an entity whose FROM clause did not validate"
        query = exp.select(*columns).from_(driving.copy())
        for join in self.from_clause.joins:
            query = query.join(join.copy())
        if self.where is not None:
            query = query.where(self.where.copy())
        return query

    def compile_rule(
        self, *, attribute_name: str, source_columns: str, transformation: str, default_value: str
    ) -> tuple[Checked | None, dict[str, list[str]]]:
        """Check an attribute's rule as typed, without saving: the analysis and the errors by
        form field. A transformation wins; without one, the source columns must be a direct
        move (one `alias.column`)."""
        target = self.target(attribute_name)
        errors: dict[str, list[str]] = {}
        default_errors = default_problems(default_value, target)
        if default_errors:
            errors["default_value"] = [str(p) for p in default_errors]
        field, text = "transformation", transformation
        if not transformation.strip():
            field, text = "source_columns", source_columns
            if not source_columns.strip():
                return None, errors
            if not is_direct_move(source_columns, self.dialect):
                return None, {**errors, field: [DIRECT_MOVE_ERROR]}
        checked = check_expression(text, self.filtered_scope, target=target, default=default_value)
        if checked.errors:
            errors[field] = [str(p) for p in checked.errors]
        return checked, errors


# --- compiling -----------------------------------------------------------------------------------


def compile_entity(
    *,
    entity_mapping: EntityMapping,
    catalog: dict[str, TableInfo],
    contract_attributes: Mapping[tuple[str, str], InterfaceAttribute] | None = None,
    attribute_mappings: Iterable[AttributeMapping] = (),
) -> CompiledEntity:
    """Compile the FROM clause and filter against `catalog` (as `catalog_index` answers), and one
    CompiledAttribute per contract attribute of the entity and per mapping handed in."""
    clause = check_from(
        entity_mapping.driving_table,
        entity_mapping.driving_alias,
        entity_mapping.joins,
        catalog,
        dialect=rules_dialect(driving_table=entity_mapping.driving_table, catalog=catalog),
    )
    checked_filter = None
    filtered_scope = clause.scope
    if entity_mapping.filter.strip():
        checked_filter = check_filter(entity_mapping.filter, clause.scope)
        if checked_filter.ok:
            filtered_scope = narrow_scope(clause.scope, not_null_columns(checked_filter.tree))
    checked_delete = None
    if entity_mapping.delete_condition.strip():
        checked_delete = check_filter(entity_mapping.delete_condition, clause.scope)
    return CompiledEntity(
        entity_mapping=entity_mapping,
        from_clause=clause,
        filter=checked_filter,
        filtered_scope=filtered_scope,
        delete_condition=checked_delete,
        attributes=_compile_attributes(
            entity_mapping.entity_name,
            filtered_scope,
            contract_attributes or {},
            attribute_mappings,
        ),
    )


def _compile_attributes(
    entity_name: str,
    scope: Scope,
    contract: Mapping[tuple[str, str], InterfaceAttribute],
    attribute_mappings: Iterable[AttributeMapping],
) -> tuple[CompiledAttribute, ...]:
    mappings = {m.attribute_name: m for m in attribute_mappings}
    in_contract = [name for entity, name in contract if entity == entity_name]
    names = in_contract + [name for name in mappings if (entity_name, name) not in contract]
    return tuple(
        _compile_attribute(name, scope, contract.get((entity_name, name)), mappings.get(name))
        for name in names
    )


def _compile_attribute(
    name: str,
    scope: Scope,
    contract_attribute: InterfaceAttribute | None,
    mapping: AttributeMapping | None,
) -> CompiledAttribute:
    target = attribute_target(contract_attribute)
    checked = default = None
    if mapping is not None:
        if mapping.rule:
            checked = check_expression(
                mapping.rule, scope, target=target, default=mapping.default_value
            )
        if mapping.default_value.strip():
            default = default_literal(mapping.default_value.strip(), target)
    return CompiledAttribute(
        name=name,
        target=target,
        contract_attribute=contract_attribute,
        mapping=mapping,
        checked=checked,
        default=default,
    )


# --- loading what a compilation needs --------------------------------------------------------------


def _catalog_for(entity_mappings: Iterable[EntityMapping], engagement: Engagement) -> dict:
    """The catalog tables the entities' FROM clauses name: two queries."""
    names: set[str] = set()
    for entity_mapping in entity_mappings:
        names |= referenced_tables(entity_mapping.driving_table, entity_mapping.joins)
    return catalog_index(engagement=engagement, names=names)


def compile_from_clause(*, entity_mapping: EntityMapping) -> CompiledEntity:
    """The entity's FROM clause, filter and scope, without its attributes: two queries."""
    catalog = _catalog_for([entity_mapping], entity_mapping.engagement)
    return compile_entity(entity_mapping=entity_mapping, catalog=catalog)


def compile_entity_mapping(
    *,
    entity_mapping: EntityMapping,
    attribute_mappings: Iterable[AttributeMapping] | None = None,
) -> CompiledEntity:
    """The entity with the contract's targets of its attributes and the rules of
    `attribute_mappings` — all of the entity's when None, none when empty: at most five queries."""
    engagement = entity_mapping.engagement
    catalog = _catalog_for([entity_mapping], engagement)
    contract = contract_attributes(engagement=engagement, entity_name=entity_mapping.entity_name)
    if attribute_mappings is None:
        attribute_mappings = entity_mapping.attributes.all()
    return compile_entity(
        entity_mapping=entity_mapping,
        catalog=catalog,
        contract_attributes=contract,
        attribute_mappings=attribute_mappings,
    )


def compile_rule_context(*, attribute_mapping: AttributeMapping) -> CompiledEntity:
    """The attribute's entity with the contract's targets and no rules: what checking a rule of
    the attribute (`CompiledEntity.compile_rule`) needs, in four queries."""
    return compile_entity_mapping(
        entity_mapping=attribute_mapping.entity_mapping, attribute_mappings=()
    )


def compile_rule_contexts(*, entity_mappings: Sequence[EntityMapping]) -> dict[int, CompiledEntity]:
    """`compile_rule_context` of many entities at once, by entity mapping id (the rows of a
    workbook import): one read of the catalog tables their FROM clauses name and one of their
    contract targets, however many entities."""
    if not entity_mappings:
        return {}
    engagement = entity_mappings[0].engagement
    catalog = _catalog_for(entity_mappings, engagement)
    contract = contract_attributes(
        engagement=engagement, entity_name={e.entity_name for e in entity_mappings}
    )
    return {
        e.pk: compile_entity(entity_mapping=e, catalog=catalog, contract_attributes=contract)
        for e in entity_mappings
    }


def compile_engagement(*, engagement: Engagement) -> list[CompiledEntity]:
    """Every entity mapping of the engagement, compiled with all its attribute mappings: six
    queries whatever the size (the entities, the mappings, the contract, the catalog)."""
    entity_mappings = list(EntityMapping.objects.filter(engagement=engagement))
    by_entity: dict[int, list[AttributeMapping]] = {}
    for mapping in AttributeMapping.objects.filter(engagement=engagement).order_by("pk"):
        by_entity.setdefault(mapping.entity_mapping_id, []).append(mapping)
    contract = contract_attributes(engagement=engagement)
    catalog = _catalog_for(entity_mappings, engagement)
    compiled = []
    for entity_mapping in entity_mappings:
        mappings = by_entity.get(entity_mapping.pk, [])
        for mapping in mappings:
            mapping.entity_mapping = entity_mapping  # callers print `entity.attribute` for free
        compiled.append(
            compile_entity(
                entity_mapping=entity_mapping,
                catalog=catalog,
                contract_attributes=contract,
                attribute_mappings=mappings,
            )
        )
    return compiled
