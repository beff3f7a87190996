"""The test-run engine: SQLAlchemy Core on both sides, set-based SQL in the databases.

1. The interface tables are created in the target (PRIMARY KEY and NOT NULL; foreign keys are
   left to the unit test, so every orphan is reported with samples instead of aborting the load).
   A table that exists with another shape stops the run; one with the same shape is emptied and
   reloaded.
2. Per entity, in load order, inside one target transaction: when source and target are the same
   database, one `INSERT … SELECT`; otherwise the extraction runs set-based in the source and its
   rows stream (server-side cursor, `partitions`) into batched `executemany` INSERTs. A failure
   rolls the entity's transaction back: an entity is either fully loaded or left as it was.
3. The unit tests (exports.testrun.checks) run against the target and the source.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlglot import exp
from sqlglot.errors import ParseError

from catalog.services import connection as mart_connection
from exports.etl import sql
from exports.etl.plan import Column, EntityPlan, EtlPlan
from exports.testrun.choices import TestType
from mappings.compiled import compile_from_clause
from workbench.jobs import JobError

from .checks import SAMPLE_LIMIT, Check, all_checks, field_value_tree

BATCH_SIZE = 10_000
FIELD_SAMPLE = 50  # keys per entity whose values are proven, the first by key
# A test run's extraction reads whole tables: a longer bound than introspection's, still a bound.
SOURCE_STATEMENT_TIMEOUT = 600.0


@dataclass
class RunOptions:
    source_url: str
    target_url: str
    source_schema: str | None = None
    target_schema: str | None = None
    batch_size: int = BATCH_SIZE
    sample_size: int = FIELD_SAMPLE
    in_database: bool | None = None  # None: when source and target are the same database
    statement_timeout: float = SOURCE_STATEMENT_TIMEOUT  # of each statement read in the source


@dataclass
class EntityLoad:
    entity: str
    table: str
    rows: int


@dataclass
class CheckResult:
    check: Check
    sql: str
    expected: str
    actual: str
    passed: bool
    samples: list[dict] = field(default_factory=list)


@dataclass
class RunOutcome:
    dialect: str
    loads: list[EntityLoad]
    results: list[CheckResult]

    @property
    def rows(self) -> int:
        return sum(load.rows for load in self.loads)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def summary(self) -> str:
        return (
            f"loaded {self.rows} rows into {len(self.loads)} entities; "
            f"{len(self.results)} tests, {len(self.failed)} failed"
        )


Progress = Callable[[float, str], None]


def redact(url: str) -> str:
    """A URL as it may be stored and shown: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return "(not a SQLAlchemy URL)"


def _engine(url: str, *, role: str) -> sa.Engine:
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise JobError(f"The {role} URL is not a SQLAlchemy URL.") from None
    try:
        parsed.get_dialect()
    except (sa.exc.NoSuchModuleError, ImportError):
        raise JobError(f"No database driver is installed for the {role} URL.") from None
    connect_args = {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}
    engine = sa.create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    if parsed.get_backend_name() == "sqlite":
        # SQLite parses `x REGEXP p` but has no implementation: the pattern tests need one.
        sa.event.listen(engine, "connect", _sqlite_regexp)
    return engine


def _source_engine(url: str, statement_timeout: float) -> sa.Engine:
    """The Mart as a test run reads it: the catalog's read-only engine (sessions read-only, a
    statement timeout), so no SQL of a rule can write to it."""
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except (sa.exc.ArgumentError, ValueError):
        raise JobError("The source URL is not a SQLAlchemy URL.") from None
    except (sa.exc.NoSuchModuleError, ImportError):
        raise JobError("No database driver is installed for the source URL.") from None
    engine = mart_connection.read_only_engine(parsed, statement_timeout=statement_timeout).engine
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_regexp)
    return engine


@contextmanager
def _reading(source: sa.Engine, statement_timeout: float) -> Iterator[sa.Connection]:
    """A connection to the source in a read-only transaction, rolled back at the end."""
    with source.connect() as conn:
        mart_connection.begin_read_only(conn, statement_timeout)
        try:
            yield conn
        finally:
            conn.rollback()


def _sqlite_regexp(dbapi_connection, _record) -> None:
    def regexp(pattern, value):
        return (
            None if value is None or pattern is None else re.search(pattern, str(value)) is not None
        )

    dbapi_connection.create_function("regexp", 2, regexp, deterministic=True)


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).split("(Background on this error")[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _same_database(a: str, b: str) -> bool:
    return make_url(a).render_as_string(hide_password=False) == make_url(b).render_as_string(
        hide_password=False
    )


def url_dialect(url: str) -> str:
    """The sqlglot dialect of a database URL ("" when it cannot be read; the run's own checks
    refuse such a URL by name)."""
    try:
        backend = make_url(url).get_backend_name()
    except (sa.exc.ArgumentError, ValueError):
        return ""
    return sql.BACKEND_DIALECTS.get(backend, backend)


def _no_progress(_fraction: float, _message: str = "") -> None:
    return None


def run(plan: EtlPlan, options: RunOptions, progress: Progress | None = None) -> RunOutcome:
    progress = progress or _no_progress
    entities = plan.loadable
    if not entities:
        raise JobError("No entity can be loaded: " + _skipped_text(plan))
    same = _same_database(options.source_url, options.target_url)
    in_database = same if options.in_database is None else options.in_database and same
    # A Mart that is also the run's target is written by the run (the user's choice of target);
    # any other Mart is only ever read, read-only.
    target = _engine(options.target_url, role="target")
    source = target if same else _source_engine(options.source_url, options.statement_timeout)
    dialect = sql.BACKEND_DIALECTS.get(target.dialect.name, target.dialect.name)
    source_dialect = sql.BACKEND_DIALECTS.get(source.dialect.name, source.dialect.name)
    try:
        _check_reachable(source, "source")
        _check_reachable(target, "target")
        progress(2, "Creating the interface tables")
        _create_tables(target, entities, dialect, options.target_schema)
        loads = []
        for i, entity in enumerate(entities):
            progress(5 + 70 * i / len(entities), f"Loading {entity.name}")
            if in_database:
                rows = _load_in_database(target, entity, dialect, options)
            else:
                rows = _load_streamed(source, target, entity, source_dialect, dialect, options)
            loads.append(EntityLoad(entity=entity.name, table=entity.table, rows=rows))
        progress(78, "Running the unit tests")
        results = run_checks(
            plan, source, target, source_dialect, dialect, options, progress=progress
        )
    finally:
        source.dispose()
        target.dispose()
    progress(100, "Done")
    return RunOutcome(dialect=dialect, loads=loads, results=results)


def _skipped_text(plan: EtlPlan) -> str:
    return "; ".join(f"{e.name}: {e.skipped}" for e in plan.entities if e.skipped) or "none"


def _check_reachable(engine: sa.Engine, role: str) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        raise JobError(f"Could not connect to the {role} database: {_first_line(exc)}") from None


# --- the interface tables ---------------------------------------------------------------------


def _create_tables(
    target: sa.Engine, entities: list[EntityPlan], dialect: str, schema: str | None
) -> None:
    with target.begin() as conn:
        if schema and dialect in ("postgres", "duckdb"):
            conn.execute(
                sa.text(
                    exp.Create(this=exp.to_identifier(schema), kind="SCHEMA", exists=True).sql(
                        dialect=dialect
                    )
                )
            )
        inspector = sa.inspect(conn)
        for entity in entities:
            if inspector.has_table(entity.table, schema=schema):
                existing = _column_names(conn, entity.table, schema, dialect)
                wanted = {c.name.lower() for c in entity.columns}
                if existing != wanted:
                    missing = ", ".join(sorted(wanted - existing)) or "none"
                    extra = ", ".join(sorted(existing - wanted)) or "none"
                    raise JobError(
                        f"The target table {entity.table} exists with another shape (missing "
                        f"columns: {missing}; unexpected columns: {extra}). Drop it or choose "
                        "another target."
                    )
                continue
            ddl = sql.create_table(entity, dialect=dialect, schema=schema, foreign_keys=False)
            try:
                conn.execute(sa.text(sql.render(ddl, dialect, pretty=False)))
            except sa.exc.DBAPIError as exc:
                raise JobError(
                    f"Could not create the table {entity.table}: {_first_line(exc)}"
                ) from None


def _column_names(conn, table: str, schema: str | None, dialect: str) -> set[str]:
    """The table's column names, lower-cased, from the result of a query that reads no row (the
    inspector's catalog queries fail on DuckDB)."""
    empty = exp.select(exp.Star()).from_(sql.table(table, schema)).where(exp.false())
    columns = conn.execute(sa.text(empty.sql(dialect=dialect))).keys()
    return {name.lower() for name in columns}


def _delete_all(conn, entity: EntityPlan, dialect: str, schema: str | None) -> None:
    conn.execute(sa.text(exp.delete(sql.table(entity.table, schema)).sql(dialect=dialect)))


def _load_in_database(
    engine: sa.Engine, entity: EntityPlan, dialect: str, options: RunOptions
) -> int:
    statement = sql.insert_tree(
        entity, target_schema=options.target_schema, source_schema=options.source_schema
    )
    try:
        with engine.begin() as conn:
            _delete_all(conn, entity, dialect, options.target_schema)
            result = conn.execute(sa.text(sql.render(statement, dialect, pretty=False)))
            return result.rowcount
    except sa.exc.DBAPIError as exc:
        raise JobError(
            f"Loading {entity.name} failed and was rolled back: {_first_line(exc)}"
        ) from None


def _load_streamed(
    source: sa.Engine,
    target: sa.Engine,
    entity: EntityPlan,
    source_dialect: str,
    dialect: str,
    options: RunOptions,
) -> int:
    extraction = sql.render(
        sql.select_tree(entity, source_schema=options.source_schema), source_dialect, pretty=False
    )
    names = [c.name for c in entity.columns]
    converters = [converter(c, dialect) for c in entity.columns]
    table = sa.table(entity.table, *[sa.column(n) for n in names], schema=options.target_schema)
    insert = table.insert()
    rows = 0
    try:
        with _reading(source, options.statement_timeout) as sconn, target.begin() as tconn:
            _delete_all(tconn, entity, dialect, options.target_schema)
            result = sconn.execution_options(
                stream_results=True, max_row_buffer=options.batch_size
            ).execute(sa.text(extraction))
            for batch in result.partitions(options.batch_size):
                params = [_convert_row(entity, names, converters, row) for row in batch]
                tconn.execute(insert, params)
                rows += len(params)
    except sa.exc.DBAPIError as exc:
        raise JobError(
            f"Loading {entity.name} failed and was rolled back: {_first_line(exc)}"
        ) from None
    return rows


def _convert_row(entity: EntityPlan, names, converters, row) -> dict:
    values = {}
    for name, convert, value in zip(names, converters, row, strict=True):
        try:
            values[name] = convert(value)
        except (ValueError, TypeError, decimal.InvalidOperation):
            key = ", ".join(
                f"{k}={dict(zip(names, row, strict=True))[k]!r}" for k in entity.primary_key
            )
            raise JobError(
                f"{entity.name}.{name}: the value {value!r} (row {key or '?'}) does not conform "
                f"to the contract's type {entity.column(name).logical_type}; the entity was "
                "rolled back."
            ) from None
    return values


# --- values as each engine stores them -------------------------------------------------------


def _to_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _to_datetime(value):
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return dt.datetime.fromisoformat(str(value))


def _to_decimal(value) -> decimal.Decimal:
    return decimal.Decimal(str(value))


def _to_bool(value):
    if isinstance(value, str):
        if value.strip().lower() in ("true", "1", "t", "yes", "y"):
            return True
        if value.strip().lower() in ("false", "0", "f", "no", "n"):
            return False
        raise ValueError(value)
    return bool(value)


def converter(column: Column, dialect: str) -> Callable:
    """How a value from any engine is written into `dialect` (SQLite: ISO text and 0/1)."""
    kind = column.logical_type
    sqlite = dialect == "sqlite"
    fn: Callable[[Any], Any]
    if kind == "date":
        fn = (lambda v: _to_date(v).isoformat()) if sqlite else _to_date
    elif kind == "timestamp":
        fn = (
            (lambda v: _to_datetime(v).isoformat(sep=" ", timespec="seconds"))
            if sqlite
            else _to_datetime
        )
    elif kind == "boolean":
        fn = (lambda v: int(_to_bool(v))) if sqlite else _to_bool
    elif kind == "number":
        fn = (lambda v: float(v)) if sqlite else _to_decimal
    elif kind == "integer":
        fn = int
    else:
        fn = lambda v: v if isinstance(v, str) else str(v)  # noqa: E731
    return lambda v: None if v is None else fn(v)


def normalise(column: Column, value):
    """A comparable form of a value, whichever engine produced it."""
    if value is None:
        return None
    kind = column.logical_type
    try:
        if kind == "date":
            return _to_date(value).isoformat()
        if kind == "timestamp":
            return _to_datetime(value).isoformat(sep=" ", timespec="seconds")
        if kind == "boolean":
            return _to_bool(value)
        if kind == "number":
            scale = (column.precision_scale or (38, 6))[1]
            # Half away from zero, as the databases' casts round.
            return decimal.Decimal(str(value)).quantize(
                decimal.Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_UP
            )
        if kind == "integer":
            return int(value)
    except (ValueError, TypeError, decimal.InvalidOperation):
        return str(value)
    return str(value)


# --- the unit tests ---------------------------------------------------------------------------


def _jsonable(value):
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def rules_dialects(plan: EtlPlan) -> dict[str, str]:
    """Entity name → the dialect its rules are written and stored in (its Mart's)."""
    return {
        entity.name: compile_from_clause(entity_mapping=entity.mapping).dialect
        for entity in plan.loadable
        if entity.mapping is not None
    }


def run_checks(
    plan: EtlPlan,
    source: sa.Engine,
    target: sa.Engine,
    source_dialect: str,
    dialect: str,
    options: RunOptions,
    *,
    progress: Progress | None = None,
) -> list[CheckResult]:
    dialects = rules_dialects(plan)
    checks = all_checks(
        plan,
        dialect=dialect,
        target_schema=options.target_schema,
        source_schema=options.source_schema,
        source_dialect=source_dialect,
        rules_dialects=dialects,
    )
    results: list[CheckResult] = []
    samples_by_entity: dict[str, tuple[list[dict], dict]] = {}
    with _reading(source, options.statement_timeout) as sconn, target.connect() as tconn:
        for i, check in enumerate(checks):
            if progress and i % 10 == 0:
                progress(78 + 20 * i / len(checks), f"Unit test {i + 1} of {len(checks)}")
            try:
                if check.test_type == TestType.RECORD_COUNT:
                    results.append(_record_count(check, sconn, tconn, source_dialect, dialect))
                elif check.test_type == TestType.FIELD_VALUE:
                    entity = plan.entity(check.entity)
                    if entity.name not in samples_by_entity:
                        samples_by_entity[entity.name] = _field_samples(
                            entity,
                            sconn,
                            tconn,
                            (dialects.get(entity.name, source_dialect), source_dialect, dialect),
                            options,
                        )
                    results.append(
                        _field_value(check, entity, samples_by_entity[entity.name], source_dialect)
                    )
                elif check.on_source:
                    results.append(_violations(check, sconn, source_dialect))
                else:
                    results.append(_violations(check, tconn, dialect))
            except (sa.exc.DBAPIError, ParseError) as exc:
                text = check.count_tree() if check.violations is not None else check.source
                side = source_dialect if check.on_source or text is check.source else dialect
                results.append(
                    CheckResult(
                        check=check,
                        sql=sql.render(text, side) if text is not None else "",
                        expected="the query runs",
                        actual=f"error: {_first_line(exc)}",
                        passed=False,
                    )
                )
                tconn.rollback()
                sconn.rollback()
                mart_connection.begin_read_only(sconn, options.statement_timeout)
    return results


def _record_count(check: Check, sconn, tconn, source_dialect: str, dialect: str) -> CheckResult:
    assert check.source is not None and check.violations is not None  # a record-count check
    source_sql = sql.render(check.source, source_dialect)
    target_sql = sql.render(check.violations, dialect)
    expected = sconn.execute(sa.text(source_sql)).scalar()
    actual = tconn.execute(sa.text(target_sql)).scalar()
    return CheckResult(
        check=check,
        sql=f"-- source ({source_dialect})\n{source_sql};\n-- target ({dialect})\n{target_sql};",
        expected=f"{expected} rows",
        actual=f"{actual} rows",
        passed=expected == actual,
    )


def _violations(check: Check, tconn, dialect: str) -> CheckResult:
    count_sql = sql.render(check.count_tree(), dialect)
    count = tconn.execute(sa.text(count_sql)).scalar() or 0
    samples = []
    if count:
        result = tconn.execute(sa.text(sql.render(check.samples_tree(), dialect)))
        samples = [{k: _jsonable(v) for k, v in row._mapping.items()} for row in result.fetchall()][
            :SAMPLE_LIMIT
        ]
    return CheckResult(
        check=check,
        sql=count_sql + ";",
        expected="0 rows",
        actual=f"{count} rows",
        passed=count == 0,
        samples=samples,
    )


def _field_samples(entity, sconn, tconn, dialects: tuple[str, str, str], options):
    """The rules as written evaluated in the Mart for a sample of keys, and the rows the target
    table holds for those keys. `dialects`: the rules', the Mart's and the target's."""
    read, source_dialect, dialect = dialects
    tree = field_value_tree(
        entity,
        None,
        rules_dialect=read,
        source_schema=options.source_schema,
        limit=options.sample_size,
    )
    source_rows = [
        dict(row._mapping) for row in sconn.execute(sa.text(sql.render(tree, source_dialect)))
    ]
    keys = entity.primary_key
    if not source_rows:
        return [], {}
    condition = exp.or_(
        *[
            exp.and_(*[exp.EQ(this=exp.column(k), expression=_literal(row[k])) for k in keys])
            for row in source_rows
        ]
    )
    target_tree = (
        exp.select(*[exp.column(c.name) for c in entity.columns])
        .from_(sql.table(entity.table, options.target_schema))
        .where(condition)
    )
    loaded = {
        tuple(normalise(entity.column(k), row._mapping[k]) for k in keys): dict(row._mapping)
        for row in tconn.execute(sa.text(sql.render(target_tree, dialect, pretty=False)))
    }
    return source_rows, loaded


def _literal(value) -> exp.Expression:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float | decimal.Decimal):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _field_value(check: Check, entity: EntityPlan, samples, source_dialect: str) -> CheckResult:
    source_rows, loaded = samples
    column = check.column
    assert column is not None and check.source is not None  # a field-value check
    keys = entity.primary_key
    differing = []
    for row in source_rows:
        key = tuple(normalise(entity.column(k), row[k]) for k in keys)
        expected = normalise(column, row[column.name])
        target_row = loaded.get(key)
        actual = normalise(column, target_row[column.name]) if target_row else "(row not loaded)"
        if expected != actual:
            differing.append(
                {
                    **{k: _jsonable(row[k]) for k in keys},
                    "expected": _jsonable(expected),
                    "loaded": _jsonable(actual),
                }
            )
    return CheckResult(
        check=check,
        sql=sql.render(check.source, source_dialect) + ";",
        expected=f"{len(source_rows)} sampled rows equal the recomputed rule",
        actual=f"{len(source_rows) - len(differing)} equal, {len(differing)} differ",
        passed=not differing,
        samples=differing[:SAMPLE_LIMIT],
    )
