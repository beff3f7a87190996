"""The one list of checks of an interface load, as sqlglot trees over the loaded tables.

Every constraint the contract states becomes a check here — required (and primary-key columns) not
null, the primary key (composite ones as a whole), every `unique` attribute, foreign keys, allowed
values, pattern, length, precision, minimum and maximum — plus what the mapping adds: the record
count against the source and the field values. The same list is rendered three ways: the test-run
engine runs it (exports.testrun.engine), tests/unit_tests.sql ships it (exports.etl.unit_tests),
and the dbt project turns it into dbt tests. `Check.kind` with the entity and the attribute names
a check the same way in all of them (and as `datacontract test` reports the contract's checks).

Most checks are a *violations* query — rows that break a rule — expected to return nothing: the test
SQL counts them, and up to 20 of them are kept as samples. The record count compares the source
after the filter with the target. The field-value check is independent of the generator: it
evaluates each BA rule as written (parsed and rendered in the Mart's dialect, never through the
generated SELECT) for a sample of keys and compares it with what the target table holds. The
"fits before the cast" checks run on the Mart side, before any cast could cut a value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from catalog.dialects import as_written
from contracts.quality import NO_BAD_ROWS, Threshold, allowed_values_threshold
from exports.etl import sql
from exports.etl.plan import Column, EntityPlan, EtlPlan, ForeignKey
from exports.testrun.choices import CheckKind, TestType

SAMPLE_LIMIT = 20


@dataclass
class Check:
    """One check. `meta` carries what the check tests, for renderings that are not SQL trees
    (the dbt tests): "columns" (primary key, unique), "values" (allowed values), "pattern",
    "max_length", "min_length", "precision" and "scale", "minimum" or "maximum" (with
    "exclusive"), "to_entity", "to_table" and "to_columns" (foreign key)."""

    name: str
    test_type: str
    entity: str
    description: str
    attribute: str = ""  # the column, or the columns joined by ", " (a composite key)
    kind: str = ""  # a CheckKind
    violations: exp.Select | None = None  # rows breaking the rule (target)
    source: exp.Select | None = None  # the source side (record count)
    column: Column | None = None  # field-value checks
    on_source: bool = False  # the violations query reads the Mart, not the target
    meta: dict = field(default_factory=dict)
    # How many violating rows pass (none, unless the contract's rule grants a tolerance); with a
    # tolerance in percent, `total` counts the rows the share is taken of.
    tolerance: Threshold = NO_BAD_ROWS
    total: exp.Select | None = None
    # The violations as a condition on the rows of `scan` (a table, or the rules computed in the
    # Mart), where a check is that simple: the checks over the same rows are then counted in one
    # scan (`violating()` of each), not one query each.
    scan: exp.Expr | None = None
    condition: exp.Expr | None = None
    # The number `count_tree()` answers, asked more cheaply (the duplicates of a key counted per
    # group, not per row through a window): the same number, so the check says the same.
    counted: exp.Select | None = None
    # The rows of `scan` counted in another query's words (the record count's source side): the
    # scan that counts the checks together answers that query too.
    scan_rows: exp.Select | None = None

    @property
    def key(self) -> str:
        """`entity.attribute.kind` (`entity.kind` without an attribute; a composite key's columns
        joined by "+"): one word naming the check in tests/unit_tests.sql."""
        attribute = self.attribute.replace(", ", "+")
        return ".".join(part for part in (self.entity, attribute, self.kind) if part)

    @property
    def in_scan(self) -> bool:
        """Counted as a condition on the rows of `scan`, together with the other checks of
        those rows."""
        return self.scan is not None and self.condition is not None

    def count_tree(self) -> exp.Select:
        assert self.violations is not None, "count_tree() of a check without a violations query"
        if self.counted is not None:
            return self.counted.copy()
        return exp.select(exp.alias_(exp.Count(this=exp.Star()), "violations")).from_(
            self.violations.subquery("v")
        )

    def violating(self) -> exp.Expr:
        """The number of violating rows as an aggregate over `scan`: the same number as
        `count_tree()`, so checks reading the same rows can share one scan."""
        assert self.condition is not None, "violating() of a check without a row condition"
        flag = exp.Case(ifs=[exp.If(this=self.condition.copy(), true=exp.Literal.number(1))])
        return exp.Count(this=flag)

    def samples_tree(self) -> exp.Select:
        assert self.violations is not None, "samples_tree() of a check without a violations query"
        return self.violations.copy().limit(SAMPLE_LIMIT)

    def shipped_tree(self) -> exp.Select:
        """The one query tests/unit_tests.sql ships for the check, answering the number of rows
        breaking it (0 is a pass); for the record count, the difference between the rows the
        extraction yields from the Mart and the rows in the interface table."""
        if self.kind == CheckKind.RECORD_COUNT:
            assert self.source is not None and self.violations is not None
            difference = exp.Sub(
                this=self.source.copy().subquery(), expression=self.violations.copy().subquery()
            )
            return exp.select(exp.alias_(exp.Abs(this=difference), "violations"))
        if self.tolerance.is_strict:
            return self.count_tree()
        return self._tolerant_tree()

    def _tolerant_tree(self) -> exp.Select:
        """0 while the contract's tolerance accepts the rows breaking the rule (a count, or a
        share of the table's rows in percent), else their number."""
        count = self.count_tree().subquery()
        measured: exp.Expr = count
        if self.tolerance.percent and self.total is not None:
            share = exp.Div(
                this=exp.Mul(this=exp.Literal.number(100.0), expression=count.copy()),
                expression=exp.Nullif(
                    this=self.total.copy().subquery(), expression=exp.Literal.number(0)
                ),
            )
            measured = exp.Coalesce(this=share, expressions=[exp.Literal.number(0)])
        verdict = exp.Case(
            ifs=[exp.If(this=_passes(self.tolerance, measured), true=exp.Literal.number(0))]
        )
        verdict.set("default", count.copy())
        return exp.select(exp.alias_(verdict, "violations"))


def _passes(threshold: Threshold, measured: exp.Expr) -> exp.Expr:
    """The threshold as SQL over the measured count or share."""
    low = exp.Literal.number(threshold.low)
    high = exp.Literal.number(threshold.high if threshold.high is not None else threshold.low)
    within = exp.Between(this=measured.copy(), low=low.copy(), high=high)
    compare = {
        "mustBe": exp.EQ,
        "mustNotBe": exp.NEQ,
        "mustBeGreaterThan": exp.GT,
        "mustBeGreaterOrEqualTo": exp.GTE,
        "mustBeLessThan": exp.LT,
        "mustBeLessOrEqualTo": exp.LTE,
    }
    if threshold.operator in compare:
        return compare[threshold.operator](this=measured.copy(), expression=low)
    return within if threshold.operator == "mustBeBetween" else exp.Not(this=within)


def _col(name: str) -> exp.Column:
    return exp.column(name)


def _present(name: str) -> exp.Expr:
    return exp.Not(this=_col(name).is_(exp.null()))


def _violations(entity: EntityPlan, target_schema: str | None, condition, *columns: str) -> dict:
    """A check's rows of the table breaking `condition` (with the key and `columns`), as the
    Check fields `violations`, `scan` and `condition`."""
    keys = [*entity.primary_key]
    shown = keys + [c for c in columns if c not in keys]
    table = sql.table(entity.table, target_schema)
    return {
        "violations": exp.select(*[_col(c) for c in shown or columns])
        .from_(table.copy())
        .where(condition.copy()),
        "scan": table,
        "condition": condition,
    }


def _literal(value) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


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
    """The entity's checks, in this order: record count, not null, primary key, unique, foreign
    keys, each column's values (allowed values, type and length or precision, minimum length,
    pattern, minimum and maximum; then the rule's length or precision on the Mart side), then
    field values."""
    source_dialect = dialect if source_dialect is None else source_dialect
    read = source_dialect if rules_dialect is None else rules_dialect
    checks = [_record_count(entity, target_schema, source_schema)]
    checks += [
        _not_null(entity, c, target_schema) for c in entity.columns if c.required or c.primary_key
    ]
    if entity.primary_key:
        checks.append(_primary_key_unique(entity, target_schema))
    # the same columns the DDL declares UNIQUE
    checks += [_unique(entity, entity.column(c), target_schema) for c in entity.unique_columns]
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
        kind=CheckKind.RECORD_COUNT,
        entity=entity.name,
        description="Rows in the interface table equal the rows the extraction yields from the "
        "source after joins and filter.",
        source=sql.source_count_tree(entity, source_schema=source_schema),
        violations=_row_count(entity, target_schema),
    )


def _not_null(entity: EntityPlan, column: Column, target_schema: str | None) -> Check:
    why = "required" if column.required else "part of the primary key"
    return Check(
        name=f"{entity.name}.{column.name}: required",
        test_type=TestType.NOT_NULL,
        kind=CheckKind.NOT_NULL,
        entity=entity.name,
        attribute=column.name,
        description=f"{column.name} is {why}: no row has it NULL.",
        **_violations(entity, target_schema, exp.column(column.name).is_(exp.null()), column.name),
    )


def _duplicates(entity: EntityPlan, columns: list[str], target_schema: str | None) -> dict:
    """Rows whose value of `columns` another row has too (NULLs are never duplicates, as in a
    UNIQUE constraint), with the primary key and the number of copies; counted per group of
    copies (the rows of the groups of more than one), which needs no window over every row.
    As the Check fields `violations` and `counted`."""
    shown = [*entity.primary_key, *[c for c in columns if c not in entity.primary_key]]
    present = exp.and_(*[_present(c) for c in columns])
    copies = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[_col(c) for c in columns])
    counted = (
        exp.select(*[_col(c) for c in shown], exp.alias_(copies, "copies"))
        .from_(sql.table(entity.table, target_schema))
        .where(present.copy())
    )
    groups = (
        exp.select(exp.alias_(exp.Count(this=exp.Star()), "copies"))
        .from_(sql.table(entity.table, target_schema))
        .where(present)
        .group_by(*[_col(c) for c in columns])
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
    )
    # a whole number on every engine (PostgreSQL's SUM of counts is a NUMERIC)
    total = exp.Cast(
        this=exp.Coalesce(this=exp.Sum(this=_col("copies")), expressions=[exp.Literal.number(0)]),
        to=exp.DataType.build("BIGINT"),
    )
    return {
        "violations": exp.select(*[_col(c) for c in shown], _col("copies"))
        .from_(counted.subquery("counted"))
        .where(exp.GT(this=_col("copies"), expression=exp.Literal.number(1))),
        "counted": exp.select(exp.alias_(total, "violations")).from_(groups.subquery("v")),
    }


def _primary_key_unique(entity: EntityPlan, target_schema: str | None) -> Check:
    keys = ", ".join(entity.primary_key)
    return Check(
        name=f"{entity.name}: primary key unique",
        test_type=TestType.PRIMARY_KEY,
        kind=CheckKind.PRIMARY_KEY,
        entity=entity.name,
        attribute=keys,
        description=f"No two rows share the primary key ({keys}).",
        **_duplicates(entity, entity.primary_key, target_schema),
        meta={"columns": list(entity.primary_key)},
    )


def _unique(entity: EntityPlan, column: Column, target_schema: str | None) -> Check:
    return Check(
        name=f"{entity.name}.{column.name}: unique",
        test_type=TestType.UNIQUE,
        kind=CheckKind.UNIQUE,
        entity=entity.name,
        attribute=column.name,
        description=f"No two rows share a {column.name} (the contract marks it unique).",
        **_duplicates(entity, [column.name], target_schema),
        meta={"columns": [column.name]},
    )


def _foreign_key(
    entity: EntityPlan, fk: ForeignKey, plan: EtlPlan, target_schema: str | None
) -> Check:
    """Child rows (c) whose key is set in full but finds no parent row (p): a key with a null
    column is not checked, as the engines' foreign keys (MATCH SIMPLE) do not check it."""
    parent = plan.entity(fk.parent_entity)
    child_cols = [exp.column(c, table="c") for c in fk.columns]
    parent_cols = [exp.column(c, table="p") for c in fk.parent_columns]
    targets = ", ".join(f"{parent.name}.{c}" for c in fk.parent_columns)
    return Check(
        name=f"{entity.name}.{fk.label}: foreign key to {parent.name}",
        test_type=TestType.FOREIGN_KEY,
        kind=CheckKind.FOREIGN_KEY,
        entity=entity.name,
        attribute=fk.label,
        description=f"Every {fk.label} resolves to a {targets}.",
        violations=exp.select(
            *[exp.column(k, table="c") for k in entity.primary_key if k not in fk.columns],
            *[c.copy() for c in child_cols],
        )
        .from_(exp.alias_(sql.table(entity.table, target_schema), "c", table=True))
        .join(
            exp.alias_(sql.table(parent.table, target_schema), "p", table=True),
            on=exp.and_(
                *[
                    exp.EQ(this=p.copy(), expression=c.copy())
                    for p, c in zip(parent_cols, child_cols, strict=True)
                ]
            ),
            join_type="LEFT",
        )
        .where(
            exp.and_(
                *[exp.Not(this=c.copy().is_(exp.null())) for c in child_cols],
                parent_cols[0].copy().is_(exp.null()),
            )
        ),
        meta={
            "to_entity": parent.name,
            "to_table": parent.table,
            "to_columns": list(fk.parent_columns),
        },
    )


def _column_value_checks(
    entity: EntityPlan, column: Column, dialect: str, target_schema: str | None
) -> list[Check]:
    """What the contract says of one column's values, where it says it."""
    found = (
        _allowed_values(entity, column, target_schema),
        _type_conforms(entity, column, dialect, target_schema),
        _min_length(entity, column, target_schema),
        _pattern(entity, column, target_schema),
        *_bounds(entity, column, target_schema),
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
    allowed = [v for v in column.attribute.allowed_values or [] if v is not None]
    if not allowed:
        return None
    accepted = tolerance(column, TestType.ALLOWED_VALUES)
    granted = "" if accepted.is_strict else f" (the contract accepts {accepted.describe()} outside)"
    condition = exp.and_(
        _present(column.name),
        exp.Not(this=exp.In(this=_col(column.name), expressions=[_literal(v) for v in allowed])),
    )
    return Check(
        name=f"{entity.name}.{column.name}: allowed values",
        test_type=TestType.ALLOWED_VALUES,
        kind=CheckKind.ALLOWED_VALUES,
        entity=entity.name,
        attribute=column.name,
        description=f"{column.name} is one of {', '.join(map(str, allowed))}{granted}.",
        **_violations(entity, target_schema, condition, column.name),
        meta={"values": allowed},
        tolerance=accepted,
        total=_row_count(entity, target_schema) if accepted.percent else None,
    )


def _row_count(entity: EntityPlan, target_schema: str | None) -> exp.Select:
    return row_count_tree(entity.table, target_schema)


def row_count_tree(table: str, schema: str | None) -> exp.Select:
    """The rows of an interface table: the record count's target side."""
    return exp.select(exp.alias_(exp.Count(this=exp.Star()), "row_count")).from_(
        sql.table(table, schema)
    )


def _type_conforms(
    entity: EntityPlan, column: Column, dialect: str, target_schema: str | None
) -> Check | None:
    conformance = _conformance(column, dialect)
    if conformance is None:
        return None
    condition, what, kind, meta = conformance
    return Check(
        name=f"{entity.name}.{column.name}: type conforms",
        test_type=TestType.TYPE_CONFORMANCE,
        kind=kind,
        entity=entity.name,
        attribute=column.name,
        description=f"{column.name} {what}.",
        **_violations(entity, target_schema, condition, column.name),
        meta=meta,
    )


def _option(column: Column, name: str):
    """A logicalTypeOptions value the contract states that the attribute does not model (kept
    in its `extra`, e.g. minLength, exclusiveMinimum)."""
    options = (column.attribute.extra or {}).get("logicalTypeOptions") or {}
    return options.get(name)


def _min_length(entity: EntityPlan, column: Column, target_schema: str | None) -> Check | None:
    least = _option(column, "minLength")
    if not isinstance(least, int) or isinstance(least, bool) or column.logical_type != "string":
        return None
    condition = exp.and_(
        _present(column.name),
        exp.LT(this=exp.Length(this=_col(column.name)), expression=exp.Literal.number(least)),
    )
    return Check(
        name=f"{entity.name}.{column.name}: minimum length",
        test_type=TestType.TYPE_CONFORMANCE,
        kind=CheckKind.MIN_LENGTH,
        entity=entity.name,
        attribute=column.name,
        description=f"{column.name} holds at least {least} characters.",
        **_violations(entity, target_schema, condition, column.name),
        meta={"min_length": least},
    )


def _pattern(entity: EntityPlan, column: Column, target_schema: str | None) -> Check | None:
    pattern = column.attribute.pattern
    if not pattern or column.logical_type != "string":
        return None
    condition = exp.and_(
        _present(column.name),
        exp.Not(
            this=exp.RegexpLike(this=_col(column.name), expression=exp.Literal.string(pattern))
        ),
    )
    return Check(
        name=f"{entity.name}.{column.name}: pattern",
        test_type=TestType.TYPE_CONFORMANCE,
        kind=CheckKind.PATTERN,
        entity=entity.name,
        attribute=column.name,
        description=f"{column.name} matches the contract's pattern {pattern}.",
        **_violations(entity, target_schema, condition, column.name),
        meta={"pattern": pattern},
    )


_DATE_TYPES = {"date": "DATE", "timestamp": "TIMESTAMP"}


def _bound_literal(column: Column, value) -> exp.Expr | None:
    """The contract's bound as a literal of the column's type (None when it is not one)."""
    kind = column.logical_type
    if kind in ("integer", "number"):
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        return exp.Literal.number(value) if numeric else None
    if kind in _DATE_TYPES and isinstance(value, str | dt.date):
        return exp.Cast(
            this=exp.Literal.string(str(value)), to=exp.DataType.build(_DATE_TYPES[kind])
        )
    return None


def _bounds(entity: EntityPlan, column: Column, target_schema: str | None) -> list[Check]:
    """The contract's minimum and maximum (or their exclusive forms) of a number or a date."""
    stated = [
        (CheckKind.MINIMUM, column.attribute.minimum, False),
        (CheckKind.MINIMUM, _option(column, "exclusiveMinimum"), True),
        (CheckKind.MAXIMUM, column.attribute.maximum, False),
        (CheckKind.MAXIMUM, _option(column, "exclusiveMaximum"), True),
    ]
    checks = []
    for kind, value, exclusive in stated:
        bound = _bound_literal(column, value) if value is not None else None
        if bound is None:
            continue
        low = kind == CheckKind.MINIMUM
        breaks = (exp.LTE if exclusive else exp.LT) if low else (exp.GTE if exclusive else exp.GT)
        what = (
            ("greater than" if exclusive else "at least")
            if low
            else ("less than" if exclusive else "at most")
        )
        checks.append(
            Check(
                name=f"{entity.name}.{column.name}: {kind.label.lower()}",
                test_type=TestType.VALUE_RANGE,
                kind=kind,
                entity=entity.name,
                attribute=column.name,
                description=f"{column.name} is {what} {value}.",
                **_violations(
                    entity,
                    target_schema,
                    exp.and_(
                        _present(column.name), breaks(this=_col(column.name), expression=bound)
                    ),
                    column.name,
                ),
                meta={kind.value: value, "exclusive": exclusive},
            )
        )
    return checks


def _field_values(
    entity: EntityPlan, column: Column, rules_dialect: str, source_schema: str | None
) -> Check:
    return Check(
        name=f"{entity.name}.{column.name}: field values",
        test_type=TestType.FIELD_VALUE,
        kind=CheckKind.FIELD_VALUES,
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
    # kept in the Mart's meaning wherever it is evaluated (catalog.dialects.as_written)
    tree: exp.Expr = as_written(
        sqlglot.parse_one(column.mapping.rule, read=dialect or None), dialect
    )
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
    value (every ruled column when `column` is None), ordered by the Mart columns the keys are
    computed from (see _sample_order)."""
    select = sql.from_tree(entity, source_schema=source_schema)
    keys = [entity.column(k) for k in entity.primary_key]
    shown = keys + (
        ([column] if column not in keys else [])
        if column is not None
        else [c for c in entity.columns if c not in keys and c.rule is not None]
    )
    written = {c.name: _written(c, rules_dialect) for c in shown}
    select = select.select(
        *[exp.alias_(tree.copy(), name) for name, tree in written.items()], copy=False
    )
    return select.order_by(*_sample_order(keys, written)).limit(limit)


def _sample_order(keys: list[Column], written: dict[str, exp.Expr]) -> list[exp.Ordered]:
    """The Mart columns the key rules read, where each key is a plain expression of qualified
    columns: the engine reads the first rows of the Mart's own index instead of computing every
    key to sort them (1.7 s of a 1M-row test run on PostgreSQL). Unique keys come from unique
    column tuples, so the sample stays the same on every run. Any other key (a literal default,
    an aggregate, a window, a subquery) orders by the computed keys."""
    read: dict[str, exp.Column] = {}
    for key in keys:
        tree = written[key.name]
        columns = list(tree.find_all(exp.Column))
        if (
            not columns
            or any(not c.table for c in columns)
            or tree.find(exp.AggFunc, exp.Window, exp.Subquery, exp.Select) is not None
        ):
            return [exp.Ordered(this=exp.column(k.name)) for k in keys]
        for c in columns:
            read.setdefault(c.sql(), c)
    return [exp.Ordered(this=c.copy()) for c in read.values()]


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
    computed = _computed(entity, column, rules_dialect, source_schema)
    condition = exp.and_(present, too_big)
    return Check(
        name=f"{entity.name}.{column.name}: fits before the cast",
        test_type=TestType.TYPE_CONFORMANCE,
        kind=CheckKind.FITS_BEFORE_CAST,
        entity=entity.name,
        attribute=column.name,
        description=f"The rule of {column.name}, evaluated in the Mart, yields {what} (a longer "
        "value would be cut or refused by the load's cast).",
        violations=exp.select(exp.Star())
        .from_(computed.subquery("computed"))
        .where(condition.copy()),
        on_source=True,
        # every ruled column computed: the entity's checks of its rules share the one scan
        scan=_computed(entity, None, rules_dialect, source_schema).subquery("computed"),
        condition=condition,
        # the scan's rows are the extraction's: the record count's source side
        scan_rows=sql.source_count_tree(entity, source_schema=source_schema),
    )


def _computed(
    entity: EntityPlan, column: Column | None, rules_dialect: str, source_schema: str | None
) -> exp.Select:
    """Every row of the extraction with the key and the rule of `column` (every ruled column
    when None) evaluated as written."""
    computed = field_value_tree(
        entity, column, rules_dialect=rules_dialect, source_schema=source_schema
    )
    computed.set("order", None)
    computed.set("limit", None)
    return computed


def _conformance(column: Column, dialect: str):
    """(condition, what it means, kind, meta) of the column's type where a value can break it:
    its length or precision; on SQLite, which stores any value in any column, its date, timestamp
    or boolean form."""
    name = _col(column.name)
    present = _present(column.name)
    if column.max_length:
        too_long = exp.GT(
            this=exp.Length(this=name.copy()), expression=exp.Literal.number(column.max_length)
        )
        return (
            exp.and_(present, too_long),
            f"holds at most {column.max_length} characters",
            CheckKind.MAX_LENGTH,
            {"max_length": column.max_length},
        )
    if column.precision_scale:
        precision, scale = column.precision_scale
        limit = exp.Literal.number(10 ** (precision - scale))
        return (
            exp.and_(present, exp.GTE(this=exp.Abs(this=name.copy()), expression=limit)),
            f"fits DECIMAL({precision}, {scale})",
            CheckKind.PRECISION,
            {"precision": precision, "scale": scale},
        )
    if dialect == "sqlite":
        return _sqlite_conformance(column, name, present)
    return None


def _sqlite_conformance(column: Column, name: exp.Column, present: exp.Expr):
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
            CheckKind.TYPE,
            {},
        )
    if kind == "boolean":
        zero_or_one = exp.In(
            this=name.copy(), expressions=[exp.Literal.number(0), exp.Literal.number(1)]
        )
        return (exp.and_(present, exp.Not(this=zero_or_one)), "is 0 or 1", CheckKind.TYPE, {})
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
