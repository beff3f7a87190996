"""The test-run engine: SQLAlchemy Core on both sides, set-based SQL in the databases.

1. The interface tables are created in the target (PRIMARY KEY and NOT NULL; foreign keys are
   left to the unit test, so every orphan is reported with samples instead of aborting the load).
   A table that exists with another shape stops the run; one with the same shape is emptied and
   reloaded.
2. Per entity, in load order, inside one target transaction: when source and target are the same
   database, one `INSERT … SELECT`; otherwise the extraction runs set-based in the source and its
   rows stream (server-side cursor, `partitions`) into batched `executemany` INSERTs. A failure
   rolls the entity's transaction back: an entity is either fully loaded or left as it was.
3. The unit tests (exports.testrun.checks) run against the target and the source. On a server
   engine a side's checks that one scan counts run on a connection of their own beside other
   work: the Mart's while the scripts load, the target's beside the checks asked one by one.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import ReflectedColumn
from sqlalchemy.pool import NullPool
from sqlglot import exp
from sqlglot.errors import ParseError

from catalog.services import connection as mart_connection
from exports.etl import sql
from exports.etl.plan import Column, EntityPlan, EtlPlan
from exports.etl.scripts import Script, etl_scripts
from exports.testrun.choices import CheckKind, TestType
from mappings.compiled import compile_from_clause
from workbench.jobs import JobError

from .checks import SAMPLE_LIMIT, Check, all_checks, field_value_tree, row_count_tree

BATCH_SIZE = 10_000
STAGING_SCHEMA = "workbench_mart"
FIELD_SAMPLE = 50  # keys per entity whose values are proven, the first by key
# A test run's extraction reads whole tables: a longer bound than introspection's, still a bound.
SOURCE_STATEMENT_TIMEOUT = 600.0


@dataclass
class RunOptions:
    source_url: str
    target_url: str
    source_schema: str | None = None
    target_schema: str | None = None
    batch_size: int = BATCH_SIZE  # rows per INSERT when the Mart is copied into the target
    sample_size: int = FIELD_SAMPLE
    # where the Mart's unqualified tables are copied in the target (when it is another database)
    staging_schema: str = STAGING_SCHEMA
    statement_timeout: float = SOURCE_STATEMENT_TIMEOUT  # of each statement read in the source


@dataclass
class EntityLoad:
    entity: str
    table: str
    rows: int  # in the table after the run
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    seconds: float = 0.0  # spent running the entity's scripts (load and purge)


@dataclass
class CheckResult:
    check: Check
    sql: str
    expected: str
    actual: str
    passed: bool
    samples: list[dict] = field(default_factory=list)
    figures: dict = field(default_factory=dict)  # a record count's source and target rows


@dataclass
class RunOutcome:
    dialect: str
    loads: list[EntityLoad]
    results: list[CheckResult]
    checks_seconds: float = 0.0

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
        # and checks foreign keys only when asked, as every shipped SQLite script does
        sa.event.listen(engine, "connect", _sqlite_foreign_keys)
    return engine


def _sqlite_foreign_keys(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys = ON")


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
    """Load the target with the generated scripts themselves, then run the unit tests."""
    progress = progress or _no_progress
    entities = plan.loadable
    if not entities:
        raise JobError("No entity can be loaded: " + _skipped_text(plan))
    same = _same_database(options.source_url, options.target_url)
    # A Mart that is also the run's target is written by the run (the user's choice of target);
    # any other Mart is only ever read, read-only, and copied into the target's staging schema.
    target = _engine(options.target_url, role="target")
    source = target if same else _source_engine(options.source_url, options.statement_timeout)
    dialect = sql.BACKEND_DIALECTS.get(target.dialect.name, target.dialect.name)
    source_dialect = sql.BACKEND_DIALECTS.get(source.dialect.name, source.dialect.name)
    scripts_source = options.source_schema if same else options.staging_schema
    if not same and dialect == "sqlite":
        _attach_stages(plan, target, options)
    try:
        _check_reachable(source, "source")
        _check_reachable(target, "target")
        _check_shapes(target, entities, options.target_schema)
        if not same:
            progress(2, "Copying the Mart's tables into the target's staging schema")
            stage_mart(plan, source, target, options)
        scripts = etl_scripts(
            plan, dialect, target_schema=options.target_schema, source_schema=scripts_source
        )
        progress(10, "Running the generated scripts")
        with _unit_tests_ahead(plan, source, source_dialect, dialect, options) as ahead:
            loads, failures = run_scripts(scripts, target, dialect, progress)
        progress(78, "Running the unit tests")
        started = time.perf_counter()
        counted_on_target: dict[str, int | None] = {}  # the target's numbers the tests asked
        with _failed_extractions(
            plan, failures, target, dialect, options, scripts_source
        ) as checked:
            results = _load_results(plan, failures) + run_checks(
                checked,
                source,
                target,
                source_dialect,
                dialect,
                options,
                progress=progress,
                checks=ahead.checks if checked is plan else None,
                target_numbers=counted_on_target,
                source_numbers=ahead.mart_numbers,
            )
        checks_seconds = time.perf_counter() - started
        _count_rows(target, loads, dialect, options.target_schema, counted_on_target)
    finally:
        source.dispose()
        target.dispose()
    progress(100, "Done")
    return RunOutcome(dialect, loads, results, checks_seconds)


def _skipped_text(plan: EtlPlan) -> str:
    return "; ".join(f"{e.name}: {e.skipped}" for e in plan.entities if e.skipped) or "none"


def _check_reachable(engine: sa.Engine, role: str) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        raise JobError(f"Could not connect to the {role} database: {_first_line(exc)}") from None


# --- staging the Mart in the target ------------------------------------------------------------


def _source_tables(plan: EtlPlan) -> list[tuple[str | None, str]]:
    """(schema, table) of every Mart table the loads read, in first-use order."""
    found: dict[tuple[str | None, str], None] = {}
    for entity in plan.loadable:
        for node in sql.from_tree(entity).find_all(exp.Table):
            found[(node.db or None, node.name)] = None
    return list(found)


def _attach_stages(plan: EtlPlan, engine: sa.Engine, options: RunOptions) -> None:
    """SQLite has no schemas: each staged schema is a file beside the target, attached under the
    schema's name on every connection."""
    database = engine.url.database
    if not database or database == ":memory:":
        raise JobError("A SQLite target must be a file (the Mart is copied beside it).")
    schemas = sorted({schema or options.staging_schema for schema, _ in _source_tables(plan)})
    names = [(_sqlite_name(schema), f"{database}.{schema}") for schema in schemas]

    def attach(dbapi_connection, _record) -> None:
        for name, path in names:
            dbapi_connection.execute(f"ATTACH DATABASE ? AS {name}", (path,))

    sa.event.listen(engine, "connect", attach)


def _sqlite_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise JobError(f"'{name}' cannot name a SQLite schema (letters, digits and _ only).")
    return name


def _stage_type(column: ReflectedColumn, source_backend: str) -> sa.types.TypeEngine:
    """The staged column's type: the source's generic type (SQLite's declared types promise
    nothing, so only its numbers keep theirs; the rest is text)."""
    declared = column["type"]
    if source_backend == "sqlite":
        affinity = str(declared).upper()
        if "INT" in affinity:
            return sa.BigInteger()
        if any(word in affinity for word in ("REAL", "FLOA", "DOUB")):
            return sa.Float()
        if any(word in affinity for word in ("NUMERIC", "DECIMAL")):
            return sa.Numeric()
        return sa.Text()
    try:
        generic = declared.as_generic()
    except NotImplementedError:
        return sa.Text()
    return generic


def stage_mart(plan: EtlPlan, source: sa.Engine, target: sa.Engine, options: RunOptions) -> None:
    """Copy today's rows of every Mart table the loads read into the target, under the staging
    schema (an unqualified table) or its own schema name: the generated scripts then run on the
    target exactly as shipped. The copy streams in batches; each table is replaced whole."""
    source_backend = source.dialect.name
    for schema, name in _source_tables(plan):
        stage_schema = schema or options.staging_schema
        schema = schema or options.source_schema
        with _reading(source, options.statement_timeout) as sconn:
            try:
                columns = sa.inspect(sconn).get_columns(name, schema=schema)
            except sa.exc.NoSuchTableError:
                columns = []
            if not columns:
                raise JobError(f"The Mart table {name} was not found in the source.")
            staged = sa.Table(
                name,
                sa.MetaData(),
                *[sa.Column(c["name"], _stage_type(c, source_backend)) for c in columns],
                schema=stage_schema,
            )
            read: sa.Select = sa.select(*[sa.column(c["name"]) for c in columns]).select_from(
                sa.table(name, schema=schema)
            )
            with target.begin() as tconn:
                if target.dialect.name != "sqlite":
                    tconn.execute(sa.schema.CreateSchema(stage_schema, if_not_exists=True))
                staged.drop(tconn, checkfirst=True)
                staged.create(tconn)
                result = sconn.execution_options(stream_results=True).execute(read)
                for batch in result.partitions(options.batch_size):
                    tconn.execute(staged.insert(), [dict(row._mapping) for row in batch])


def _check_shapes(target: sa.Engine, entities: list[EntityPlan], schema: str | None) -> None:
    """Create the target schema when it is missing; an interface table that exists with other
    columns stops the run before anything is written (CREATE TABLE IF NOT EXISTS would keep it,
    and every load would fail)."""
    dialect = sql.BACKEND_DIALECTS.get(target.dialect.name, target.dialect.name)
    with target.begin() as conn:
        if schema and target.dialect.name in ("postgresql", "duckdb"):
            conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        inspector = sa.inspect(conn)
        for entity in entities:
            if not inspector.has_table(entity.table, schema=schema):
                continue
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


def _column_names(conn, table: str, schema: str | None, dialect: str) -> set[str]:
    """The table's column names, lower-cased, from the result of a query that reads no row (the
    inspector's catalog queries fail on DuckDB)."""
    empty = exp.select(exp.Star()).from_(sql.table(table, schema)).where(exp.false())
    columns = conn.execute(sa.text(empty.sql(dialect=dialect))).keys()
    return {name.lower() for name in columns}


# --- running the scripts ------------------------------------------------------------------------


def run_scripts(
    scripts: list[Script], target: sa.Engine, dialect: str, progress: Progress | None = None
) -> tuple[list[EntityLoad], dict[str, tuple[str, str]]]:
    """Execute the generated scripts in file order, each in one transaction, counting the rows
    each step touched. A script that fails is rolled back and named; the scripts after it still
    run (an entity's children then fail on their foreign keys, and say so)."""
    loads: dict[str, EntityLoad] = {}
    failures: dict[str, tuple[str, str]] = {}  # entity → (what failed, the script's SQL)
    for i, script in enumerate(scripts):
        entity = script.entity
        if progress is not None:
            progress(10 + 65 * i / len(scripts), f"Running {script.path}")
        if entity is not None and entity.name in failures:
            continue  # its load failed: the purge would only add noise
        started = time.perf_counter()
        try:
            with target.begin() as conn:
                counts = _execute(conn, script, dialect)
        except sa.exc.DBAPIError as exc:
            where = f"{script.path} ({entity.name})" if entity is not None else script.path
            if entity is None:
                raise JobError(f"{where} failed: {_first_line(exc)}") from None
            failures[entity.name] = (
                f"{where} failed and was rolled back: {_first_line(exc)}",
                script.render(dialect, header=[f"{script.path} as it ran"]),
            )
            continue
        if entity is not None:
            load = loads.setdefault(
                entity.name, EntityLoad(entity=entity.name, table=entity.table, rows=0)
            )
            load.inserted += counts.get("insert", 0) + counts.get("overwrite", 0)
            load.updated += counts.get("update", 0) + counts.get("merge", 0)
            load.deleted += counts.get("delete", 0) + counts.get("replace", 0)
            load.seconds += time.perf_counter() - started
    return list(loads.values()), failures


def _execute(conn: sa.Connection, script: Script, dialect: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for step, text in script.sql(dialect):
        result = conn.execute(sa.text(text))
        if result.rowcount and result.rowcount > 0:
            counts[step] = counts.get(step, 0) + result.rowcount
    return counts


def _count_rows(
    target: sa.Engine,
    loads: list[EntityLoad],
    dialect: str,
    schema,
    counted: dict[str, int | None] | None = None,
) -> None:
    """What each loaded table holds after the run: the unit tests' count of its rows when they
    counted them (the same query), else counted here."""
    counted = counted or {}
    with target.connect() as conn:
        for load in loads:
            count = sql.render(row_count_tree(load.table, schema), dialect)
            if counted.get(count) is None:
                counted[count] = conn.execute(sa.text(count)).scalar()
            load.rows = counted[count] or 0


# --- a load that failed, explained by the checks ----------------------------------------------------


def failed_table(entity: EntityPlan) -> str:
    return f"failed_{entity.table}"


@contextmanager
def _failed_extractions(
    plan: EtlPlan,
    failures: dict[str, tuple[str, str]],
    target: sa.Engine,
    dialect: str,
    options: RunOptions,
    source_schema: str | None,
) -> Iterator[EtlPlan]:
    """For each entity whose load failed, its extraction kept in a table without constraints, so
    the unit tests can show the rows that broke a key or a constraint (the plan handed out reads
    those tables in place of the interface tables). The tables are dropped afterwards."""
    if not failures:
        yield plan
        return
    entities = []
    kept = []
    with target.begin() as conn:
        for entity in plan.entities:
            if entity.name not in failures:
                entities.append(entity)
                continue
            table = sql.table(failed_table(entity), options.target_schema)
            conn.execute(
                sa.text(exp.Drop(tables=[table.copy()], kind="TABLE", exists=True).sql(dialect))
            )
            extraction = sql.select_tree(entity, source_schema=source_schema)
            create = exp.Create(this=table.copy(), kind="TABLE", expression=extraction)
            try:
                conn.execute(sa.text(sql.render(create, dialect)))
            except sa.exc.DBAPIError:
                entities.append(entity)  # the extraction itself fails: the load message says why
                continue
            kept.append(table)
            entities.append(replace(entity, table=failed_table(entity)))
    try:
        yield replace(plan, entities=entities)
    finally:
        with target.begin() as conn:
            for table in kept:
                conn.execute(
                    sa.text(exp.Drop(tables=[table], kind="TABLE", exists=True).sql(dialect))
                )


def _load_results(plan: EtlPlan, failures: dict[str, tuple[str, str]]) -> list[CheckResult]:
    """One failing test per entity whose load failed, with the engine's message."""
    return [
        CheckResult(
            check=Check(
                name=f"{entity.name}: load",
                test_type=TestType.LOAD,
                kind=CheckKind.LOAD,
                entity=entity.name,
                description="The generated load script runs on the target with every constraint "
                "of the contract.",
            ),
            sql=failures[entity.name][1],
            expected="the load commits",
            actual=failures[entity.name][0],
            passed=False,
        )
        for entity in plan.loadable
        if entity.name in failures
    ]


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


def _checks(plan: EtlPlan, source_dialect: str, dialect: str, options: RunOptions) -> list[Check]:
    return all_checks(
        plan,
        dialect=dialect,
        target_schema=options.target_schema,
        source_schema=options.source_schema,
        source_dialect=source_dialect,
        rules_dialects=rules_dialects(plan),
    )


# Engines that are servers: a side's checks counted in one scan can run on a connection of their
# own beside other work (a file database would share its one writer's locks).
SERVER_ENGINES = {"postgresql", "mysql", "mariadb"}


@contextmanager
def _counting_beside(
    connect: Callable[[], AbstractContextManager[sa.Connection]],
    dialect: str,
    checks: list[Check],
    numbers: dict[str, int | None],
    *,
    read_only: float | None = None,
) -> Iterator[None]:
    """While the body runs, the `checks` that a scan counts together are counted on a
    connection of their own (`connect()`) into `numbers` (rendered query → number); on
    PostgreSQL without parallel workers, so the body keeps the other core. A query that fails is
    left out: whoever asks for it later asks again, and reports the error as usual. (The thread
    touches no model: Django's connections are the thread's own.)"""

    def count() -> None:
        try:
            with connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
                side = _Side(conn, dialect, read_only=read_only, numbers=numbers)
                side.count_together(checks, [side])
        except sa.exc.DBAPIError:
            return

    with ThreadPoolExecutor(max_workers=1) as pool:
        counting = pool.submit(count)
        try:
            yield
        finally:
            counting.result()


@dataclass
class _Ahead:
    """What the unit tests prepare around the load: the plan's checks, and on a server Mart the
    numbers of those that read only the Mart."""

    checks: list[Check]
    mart_numbers: dict[str, int | None] = field(default_factory=dict)


@contextmanager
def _unit_tests_ahead(
    plan: EtlPlan, source: sa.Engine, source_dialect: str, dialect: str, options: RunOptions
) -> Iterator[_Ahead]:
    """The unit tests built (for `run_checks`) and, while the body runs (the scripts loading the
    target) on a server Mart, the ones that read only the Mart (the rules computed there,
    checked against the target's column sizes) counted there, for `run_checks` to ask the Mart
    only what is missing. The Mart does not change during a run: they are the numbers it would
    give afterwards."""
    ahead = _Ahead(checks=_checks(plan, source_dialect, dialect, options))
    if source.dialect.name not in SERVER_ENGINES:
        yield ahead
        return
    timeout = options.statement_timeout
    with _counting_beside(
        lambda: _reading(source, timeout),
        source_dialect,
        [c for c in ahead.checks if c.on_source],
        ahead.mart_numbers,
        read_only=timeout,
    ):
        yield ahead


def run_checks(
    plan: EtlPlan,
    source: sa.Engine,
    target: sa.Engine,
    source_dialect: str,
    dialect: str,
    options: RunOptions,
    *,
    progress: Progress | None = None,
    checks: list[Check] | None = None,
    target_numbers: dict[str, int | None] | None = None,
    source_numbers: dict[str, int | None] | None = None,
) -> list[CheckResult]:
    """Every unit test of `plan` (`checks`, when already built), in the list's order.
    `target_numbers` (rendered query → its number) collects what the target answered, for a
    caller that needs the same numbers; `source_numbers` are the Mart's answers already counted
    (`_unit_tests_ahead`)."""
    dialects = rules_dialects(plan)
    if checks is None:
        checks = _checks(plan, source_dialect, dialect, options)
    results: list[CheckResult] = []
    samples_by_entity: dict[str, tuple[list[dict], dict]] = {}
    with _reading(source, options.statement_timeout) as sconn, target.connect() as tconn:
        sides = {
            True: _Side(
                sconn,
                source_dialect,
                read_only=options.statement_timeout,
                numbers=None if source_numbers is None else dict(source_numbers),
            ),
            False: _Side(tconn, dialect, numbers=target_numbers),
        }
        sides[True].count_together([c for c in checks if c.on_source], sides.values())
        on_target = [c for c in checks if not c.on_source]
        if target.dialect.name in SERVER_ENGINES:
            # the scans counting many checks at once, beside the checks that need a query each
            # (keys, foreign keys)
            with _counting_beside(target.connect, dialect, on_target, sides[False].numbers):
                sides[False].ask_each(on_target, sides.values())
        else:
            sides[False].count_together(on_target, sides.values())
        for i, check in enumerate(checks):
            if progress and i % 10 == 0:
                progress(78 + 20 * i / len(checks), f"Unit test {i + 1} of {len(checks)}")
            try:
                if check.test_type == TestType.RECORD_COUNT:
                    results.append(_record_count(check, sides[True], sides[False]))
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
                else:
                    results.append(_violations(check, sides[check.on_source]))
            except (sa.exc.DBAPIError, ParseError) as exc:
                text = check.count_tree() if check.violations is not None else check.source
                side_dialect = (
                    source_dialect if check.on_source or text is check.source else dialect
                )
                results.append(
                    CheckResult(
                        check=check,
                        sql=sql.render(text, side_dialect) if text is not None else "",
                        expected="the query runs",
                        actual=f"error: {_first_line(exc)}",
                        passed=False,
                    )
                )
                _recover(sides.values())
    return results


# Aggregates per combined query: far below every engine's limit on the columns of a SELECT.
COUNTED_TOGETHER = 200


class _Side:
    """One side of a test run (the Mart or the target) as the checks read it: each number asked
    once (the same query of two checks runs once), and the checks that are a condition on the
    same rows counted together in one scan of those rows."""

    def __init__(
        self,
        conn: sa.Connection,
        dialect: str,
        *,
        read_only: float | None = None,
        numbers: dict[str, int | None] | None = None,
    ):
        self.conn = conn
        self.dialect = dialect
        self.read_only = read_only  # the source's statement timeout: it reads read-only
        # rendered query → its number (a check counted together: its own count query's)
        self.numbers: dict[str, int | None] = {} if numbers is None else numbers
        self.count_sql: dict[int, str] = {}  # id(check) → its count query, rendered once

    def scalar(self, text: str):
        if text not in self.numbers:
            self.numbers[text] = self.conn.execute(sa.text(text)).scalar()
        return self.numbers[text]

    def violations(self, check: Check) -> int:
        return self.scalar(self.count_query(check)) or 0

    def count_query(self, check: Check) -> str:
        if id(check) not in self.count_sql:
            self.count_sql[id(check)] = sql.render(check.count_tree(), self.dialect)
        return self.count_sql[id(check)]

    def ask_each(self, checks: list[Check], sides) -> None:
        """The numbers of the checks a scan does not count (each needs a query of its own). A
        query that fails is left for the check to ask again and report."""
        for check in checks:
            if check.test_type in (TestType.RECORD_COUNT, TestType.FIELD_VALUE):
                continue
            if check.violations is None or check.in_scan:
                continue  # nothing to count, or counted in a scan
            try:
                self.violations(check)
            except (sa.exc.DBAPIError, ParseError):
                _recover(sides)

    def count_together(self, checks: list[Check], sides) -> None:
        """One aggregate query per scanned relation (a table, the rules computed in the Mart)
        counting the violating rows of every check not counted yet, and the relation's rows. A
        query that fails leaves its checks to run one by one, so the one that fails says so
        alone."""
        by_scan: dict[str, list[Check]] = {}
        for check in checks:
            if check.in_scan and self.count_query(check) not in self.numbers:
                assert check.scan is not None
                by_scan.setdefault(check.scan.sql(), []).append(check)
        for group in by_scan.values():
            for start in range(0, len(group), COUNTED_TOGETHER):
                chunk = group[start : start + COUNTED_TOGETHER]
                try:
                    self._count(chunk)
                except (sa.exc.DBAPIError, ParseError):
                    _recover(sides)

    def _count(self, checks: list[Check]) -> None:
        scan = checks[0].scan
        assert scan is not None
        rows = exp.select(exp.alias_(exp.Count(this=exp.Star()), "row_count")).from_(scan.copy())
        together = rows.copy().select(
            *[exp.alias_(c.violating(), f"v{i}") for i, c in enumerate(checks)], copy=False
        )
        numbers = self.conn.execute(sa.text(sql.render(together, self.dialect))).one()
        self.numbers[sql.render(rows, self.dialect)] = numbers[0]
        for check in checks:
            if check.scan_rows is not None:  # the same rows, asked in another query's words
                self.numbers[sql.render(check.scan_rows, self.dialect)] = numbers[0]
        for check, count in zip(checks, numbers[1:], strict=True):
            self.numbers[self.count_query(check)] = count or 0


def _recover(sides) -> None:
    """After a failed query: each side's transaction rolled back (the source's read-only one
    begun again)."""
    for side in sides:
        side.conn.rollback()
        if side.read_only is not None:
            mart_connection.begin_read_only(side.conn, side.read_only)


def _record_count(check: Check, source: _Side, target: _Side) -> CheckResult:
    assert check.source is not None and check.violations is not None  # a record-count check
    source_sql = sql.render(check.source, source.dialect)
    target_sql = sql.render(check.violations, target.dialect)
    expected = source.scalar(source_sql)
    actual = target.scalar(target_sql)
    return CheckResult(
        check=check,
        sql=f"-- source ({source.dialect})\n{source_sql};\n-- target ({target.dialect})\n"
        f"{target_sql};",
        expected=f"{expected} rows",
        actual=f"{actual} rows",
        passed=expected == actual,
        figures={"source": expected, "target": actual},
    )


def _violations(check: Check, side: _Side) -> CheckResult:
    count_sql = side.count_query(check)
    count = side.violations(check)
    samples = []
    if count:
        result = side.conn.execute(sa.text(sql.render(check.samples_tree(), side.dialect)))
        samples = [{k: _jsonable(v) for k, v in row._mapping.items()} for row in result.fetchall()][
            :SAMPLE_LIMIT
        ]
    if check.tolerance.is_strict:
        expected, actual, passed = "0 rows", f"{count} rows", count == 0
    else:
        expected, actual, passed, total_sql = _within_tolerance(check, count, side)
        count_sql += total_sql
    return CheckResult(
        check=check,
        sql=count_sql + ";",
        expected=expected,
        actual=actual,
        passed=passed,
        samples=samples,
    )


def _within_tolerance(check: Check, count: int, side: _Side):
    """A check whose contract rule accepts some bad rows: judged by its threshold, on the count
    or on the share of all rows."""
    tolerance = check.tolerance
    if check.total is None:
        return tolerance.describe(), f"{count} rows", tolerance.passes_count(count, 0), ""
    total_sql = sql.render(check.total, side.dialect)
    total = side.scalar(total_sql) or 0
    share = 100.0 * count / total if total else 0.0
    actual = f"{count} of {total} rows ({share:.2f}%)"
    return tolerance.describe(), actual, tolerance.passes_count(count, total), f";\n{total_sql}"


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
