"""The unit tests of a test run, as sqlglot trees over the loaded interface tables.

Most tests are a *violations* query — rows that break a rule — expected to return nothing: the test
SQL counts them, and up to 20 of them are kept as samples. The record count compares the source
after the filter with the target. The field-value check is independent of the generator: it
evaluates each BA rule as written (parsed and rendered in the Mart's dialect, never through the
generated SELECT) for a sample of keys and compares it with what the target table holds. The
length/precision checks also run on the Mart side, before any cast could cut a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from contracts.quality import NO_BAD_ROWS, Threshold, allowed_values_threshold
from exports.etl import sql
from exports.etl.plan import Column, EntityPlan, EtlPlan, ForeignKey
from exports.testrun.choices import TestType

SAMPLE_LIMIT = 20


@dataclass
class Check:
    name: str
    test_type: str
    entity: str
    description: str
    attribute: str = ""
    violations: exp.Select | None = None  # rows breaking the rule (target)
    source: exp.Select | None = None  # the source side (record count)
    column: Column | None = None  # field-value checks
    on_source: bool = False  # the violations query reads the Mart, not the target
    meta: dict = field(default_factory=dict)
    # How many violating rows pass (none, unless the contract's rule grants a tolerance); with a
    # tolerance in percent, `total` counts the rows the share is taken of.
    tolerance: Threshold = NO_BAD_ROWS
    total: exp.Select | None = None

    def count_tree(self) -> exp.Select:
        assert self.violations is not None, "count_tree() of a check without a violations query"
        return exp.select(exp.alias_(exp.Count(this=exp.Star()), "violations")).from_(
            self.violations.subquery("v")
        )

    def samples_tree(self) -> exp.Select:
        assert self.violations is not None, "samples_tree() of a check without a violations query"
        return self.violations.copy().limit(SAMPLE_LIMIT)


def _col(name: str) -> exp.Column:
    return exp.column(name)


def _violations(entity: EntityPlan, target_schema: str | None, condition, *columns: str):
    keys = [*entity.primary_key]
    shown = keys + [c for c in columns if c not in keys]
    return (
        exp.select(*[_col(c) for c in shown or columns])
        .from_(sql.table(entity.table, target_schema))
        .where(condition)
    )


def entity_checks(
    entity: EntityPlan,
    plan: EtlPlan,
    *,
    dialect: str,
    target_schema: str | None = None,
    source_schema: str | None = None,
    source_dialect: str | None = None,
    rules_dialect: str | None = None,
) -> list[Check]:
    """The entity's unit tests, in this order: record count, required columns, primary key,
    foreign keys, each column's values (allowed values, type, pattern; then the rule's length or
    precision on the Mart side), then field values."""
    source_dialect = dialect if source_dialect is None else source_dialect
    read = source_dialect if rules_dialect is None else rules_dialect
    checks = [_record_count(entity, target_schema, source_schema)]
    checks += [_not_null(entity, c, target_schema) for c in entity.columns if c.required]
    if entity.primary_key:
        checks.append(_primary_key_unique(entity, target_schema))
    checks += [_foreign_key(entity, fk, plan, target_schema) for fk in entity.foreign_keys]
    for column in entity.columns:
        checks += _column_value_checks(entity, column, dialect, target_schema)
        fits = _fits_before_cast(entity, column, read, source_schema)
        if fits is not None:
            checks.append(fits)
    if entity.primary_key:
        checks += [
            _field_values(entity, column, read, source_schema)
            for column in entity.columns
            if column.rule is not None and not column.primary_key
        ]
    return checks


def _record_count(
    entity: EntityPlan, target_schema: str | None, source_schema: str | None
) -> Check:
    return Check(
        name=f"{entity.name}: record count",
        test_type=TestType.RECORD_COUNT,
        entity=entity.name,
        description="Rows in the interface table equal the rows the extraction yields from the "
        "source after joins and filter.",
        source=sql.source_count_tree(entity, source_schema=source_schema),
        violations=exp.select(exp.alias_(exp.Count(this=exp.Star()), "row_count")).from_(
            sql.table(entity.table, target_schema)
        ),
    )


def _not_null(entity: EntityPlan, column: Column, target_schema: str | None) -> Check:
    return Check(
        name=f"{entity.name}.{column.name}: required",
        test_type=TestType.NOT_NULL,
        entity=entity.name,
        attribute=column.name,
        description=f"{column.name} is required: no row has it NULL.",
        violations=_violations(
            entity, target_schema, exp.column(column.name).is_(exp.null()), column.name
        ),
    )


def _primary_key_unique(entity: EntityPlan, target_schema: str | None) -> Check:
    keys = [_col(c) for c in entity.primary_key]
    return Check(
        name=f"{entity.name}: primary key unique",
        test_type=TestType.PRIMARY_KEY,
        entity=entity.name,
        attribute=", ".join(entity.primary_key),
        description=f"No two rows share the primary key ({', '.join(entity.primary_key)}).",
        violations=exp.select(*keys, exp.alias_(exp.Count(this=exp.Star()), "copies"))
        .from_(sql.table(entity.table, target_schema))
        .group_by(*[k.copy() for k in keys])
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1))),
    )


def _foreign_key(
    entity: EntityPlan, fk: ForeignKey, plan: EtlPlan, target_schema: str | None
) -> Check:
    """Child rows (c) whose key is set but finds no parent row (p)."""
    parent = plan.entity(fk.parent_entity)
    child_col = exp.column(fk.column, table="c")
    parent_col = exp.column(fk.parent_column, table="p")
    return Check(
        name=f"{entity.name}.{fk.column}: foreign key to {parent.name}",
        test_type=TestType.FOREIGN_KEY,
        entity=entity.name,
        attribute=fk.column,
        description=f"Every {fk.column} resolves to a {parent.name}.{fk.parent_column}.",
        violations=exp.select(
            *[exp.column(k, table="c") for k in entity.primary_key if k != fk.column],
            child_col.copy(),
        )
        .from_(exp.alias_(sql.table(entity.table, target_schema), "c", table=True))
        .join(
            exp.alias_(sql.table(parent.table, target_schema), "p", table=True),
            on=exp.EQ(this=parent_col.copy(), expression=child_col.copy()),
            join_type="LEFT",
        )
        .where(
            exp.and_(
                exp.Not(this=child_col.copy().is_(exp.null())),
                parent_col.copy().is_(exp.null()),
            )
        ),
    )


def _column_value_checks(
    entity: EntityPlan, column: Column, dialect: str, target_schema: str | None
) -> list[Check]:
    """What the contract says of one column's values, where it says it."""
    found = (
        _allowed_values(entity, column, target_schema),
        _type_conforms(entity, column, dialect, target_schema),
        _pattern(entity, column, target_schema),
    )
    return [check for check in found if check is not None]


def tolerance(column: Column, test_type: str) -> Threshold:
    """How many rows may break a check of `column` and the test still pass, as the contract's
    quality rule says: `invalidValues` with `mustBeLessOrEqualTo: 5, unit: percent` lets 5 % of
    the rows fall outside the allowed values. Every other check accepts no bad row. Generated
    tests (dbt) read the same answer."""
    if test_type == TestType.ALLOWED_VALUES and column.attribute.allowed_values:
        return allowed_values_threshold(column.attribute)
    return NO_BAD_ROWS


def _allowed_values(entity: EntityPlan, column: Column, target_schema: str | None) -> Check | None:
    allowed = column.attribute.allowed_values or []
    if not allowed:
        return None
    accepted = tolerance(column, TestType.ALLOWED_VALUES)
    granted = "" if accepted.is_strict else f" (the contract accepts {accepted.describe()} outside)"
    condition = exp.and_(
        exp.Not(this=_col(column.name).is_(exp.null())),
        exp.Not(
            this=exp.In(
                this=_col(column.name),
                expressions=[exp.Literal.string(str(v)) for v in allowed],
            )
        ),
    )
    return Check(
        name=f"{entity.name}.{column.name}: allowed values",
        test_type=TestType.ALLOWED_VALUES,
        entity=entity.name,
        attribute=column.name,
        description=f"{column.name} is one of {', '.join(map(str, allowed))}{granted}.",
        violations=_violations(entity, target_schema, condition, column.name),
        tolerance=accepted,
        total=_row_count(entity, target_schema) if accepted.percent else None,
    )


def _row_count(entity: EntityPlan, target_schema: str | None) -> exp.Select:
    return exp.select(exp.alias_(exp.Count(this=exp.Star()), "row_count")).from_(
        sql.table(entity.table, target_schema)
    )


def _type_conforms(
    entity: EntityPlan, column: Column, dialect: str, target_schema: str | None
) -> Check | None:
    conformance = _conformance(column, dialect)
    if conformance is None:
        return None
    condition, what = conformance
    return Check(
        name=f"{entity.name}.{column.name}: type conforms",
        test_type=TestType.TYPE_CONFORMANCE,
        entity=entity.name,
        attribute=column.name,
        description=f"{column.name} {what}.",
        violations=_violations(entity, target_schema, condition, column.name),
    )


def _pattern(entity: EntityPlan, column: Column, target_schema: str | None) -> Check | None:
    pattern = column.attribute.pattern
    if not pattern or column.logical_type != "string":
        return None
    condition = exp.and_(
        exp.Not(this=_col(column.name).is_(exp.null())),
        exp.Not(
            this=exp.RegexpLike(this=_col(column.name), expression=exp.Literal.string(pattern))
        ),
    )
    return Check(
        name=f"{entity.name}.{column.name}: pattern",
        test_type=TestType.TYPE_CONFORMANCE,
        entity=entity.name,
        attribute=column.name,
        description=f"{column.name} matches the contract's pattern {pattern}.",
        violations=_violations(entity, target_schema, condition, column.name),
    )


def _field_values(
    entity: EntityPlan, column: Column, rules_dialect: str, source_schema: str | None
) -> Check:
    return Check(
        name=f"{entity.name}.{column.name}: field values",
        test_type=TestType.FIELD_VALUE,
        entity=entity.name,
        attribute=column.name,
        description=f"For a sample of rows, {column.name} computed from the Mart by the mapping "
        "rule as written equals the value loaded into the interface table.",
        column=column,
        source=field_value_tree(
            entity, column, rules_dialect=rules_dialect, source_schema=source_schema
        ),
    )


def rule_as_written(column: Column, dialect: str) -> exp.Expr:
    """The BA's rule parsed afresh from its text in the dialect it is written in (the Mart's), COALESCE'd with the
    contract default: what the column must hold, independent of the generator's rewriting."""
    assert column.mapping is not None and column.rule is not None, "a column without a rule"
    tree: exp.Expr = sqlglot.parse_one(column.mapping.rule, read=dialect or None)
    loaded = column.value.this if isinstance(column.value, exp.Cast) else column.value
    if isinstance(loaded, exp.Coalesce) and loaded.expressions:
        tree = exp.Coalesce(this=tree, expressions=[loaded.expressions[0].copy()])
    return tree


def _written(column: Column, dialect: str) -> exp.Expr:
    """The column's value computed independently: its rule as written, else the loaded default
    (a literal) for a column without a rule."""
    if column.rule is None or column.mapping is None:
        return column.value.copy()
    return rule_as_written(column, dialect)


def field_value_tree(
    entity: EntityPlan,
    column: Column | None,
    *,
    rules_dialect: str = "",
    source_schema: str | None = None,
    limit: int = 50,
) -> exp.Select:
    """The rules as written, evaluated in the Mart for a deterministic sample: the keys and the
    value (every ruled column when `column` is None), ordered by key."""
    select = sql.from_tree(entity, source_schema=source_schema)
    keys = [entity.column(k) for k in entity.primary_key]
    shown = keys + (
        ([column] if column not in keys else [])
        if column is not None
        else [c for c in entity.columns if c not in keys and c.rule is not None]
    )
    select = select.select(
        *[exp.alias_(_written(c, rules_dialect), c.name) for c in shown], copy=False
    )
    return select.order_by(*[exp.Ordered(this=exp.column(k)) for k in entity.primary_key]).limit(
        limit
    )


def _fits_before_cast(
    entity: EntityPlan, column: Column, rules_dialect: str, source_schema: str | None
) -> Check | None:
    """Rows whose rule yields a value longer, or a number wider, than the contract allows,
    measured in the Mart before the load's CAST (PostgreSQL's cast to VARCHAR(n) cuts silently)."""
    if column.rule is None or column.mapping is None:
        return None
    value = exp.column(column.name)
    present = exp.Not(this=value.copy().is_(exp.null()))
    if column.max_length:
        text = exp.Cast(this=value.copy(), to=exp.DataType.build("TEXT"))
        too_big: exp.Expr = exp.GT(
            this=exp.Length(this=text), expression=exp.Literal.number(column.max_length)
        )
        what = f"at most {column.max_length} characters"
    elif column.precision_scale:
        precision, scale = column.precision_scale
        too_big = exp.GTE(
            this=exp.Abs(this=value.copy()),
            expression=exp.Literal.number(10 ** (precision - scale)),
        )
        what = f"a number that fits DECIMAL({precision}, {scale})"
    else:
        return None
    computed = field_value_tree(
        entity, column, rules_dialect=rules_dialect, source_schema=source_schema
    )
    computed.set("order", None)
    computed.set("limit", None)
    return Check(
        name=f"{entity.name}.{column.name}: fits before the cast",
        test_type=TestType.TYPE_CONFORMANCE,
        entity=entity.name,
        attribute=column.name,
        description=f"The rule of {column.name}, evaluated in the Mart, yields {what} (a longer "
        "value would be cut or refused by the load's cast).",
        violations=exp.select(exp.Star())
        .from_(computed.subquery("computed"))
        .where(exp.and_(present, too_big)),
        on_source=True,
    )


def _conformance(column: Column, dialect: str):
    name = _col(column.name)
    present = exp.Not(this=name.copy().is_(exp.null()))
    if column.max_length:
        return (
            exp.and_(
                present,
                exp.GT(
                    this=exp.Length(this=name.copy()),
                    expression=exp.Literal.number(column.max_length),
                ),
            ),
            f"holds at most {column.max_length} characters",
        )
    if column.precision_scale:
        precision, scale = column.precision_scale
        limit = exp.Literal.number(10 ** (precision - scale))
        return (
            exp.and_(present, exp.GTE(this=exp.Abs(this=name.copy()), expression=limit)),
            f"fits DECIMAL({precision}, {scale})",
        )
    if dialect == "sqlite":
        kind = column.logical_type
        if kind in ("date", "timestamp"):
            function = "DATE" if kind == "date" else "DATETIME"
            normal = exp.Anonymous(this=function, expressions=[name.copy()])
            return (
                exp.and_(
                    present,
                    exp.or_(normal.is_(exp.null()), exp.NEQ(this=normal.copy(), expression=name)),
                ),
                f"is an ISO {kind} text ({'YYYY-MM-DD' if kind == 'date' else 'YYYY-MM-DD HH:MM:SS'})",
            )
        if kind == "boolean":
            return (
                exp.and_(
                    present,
                    exp.Not(
                        this=exp.In(
                            this=name.copy(),
                            expressions=[exp.Literal.number(0), exp.Literal.number(1)],
                        )
                    ),
                ),
                "is 0 or 1",
            )
    return None


def all_checks(
    plan: EtlPlan,
    *,
    dialect: str,
    target_schema=None,
    source_schema=None,
    source_dialect: str | None = None,
    rules_dialects: dict[str, str] | None = None,
):
    """Every loadable entity's checks; `rules_dialects` names the dialect each entity's rules are
    written in (entity name → dialect; the source's dialect when not given)."""
    checks = []
    for entity in plan.loadable:
        checks.extend(
            entity_checks(
                entity,
                plan,
                dialect=dialect,
                target_schema=target_schema,
                source_schema=source_schema,
                source_dialect=source_dialect,
                rules_dialect=(rules_dialects or {}).get(entity.name),
            )
        )
    return checks
