"""Reading a Mart's structure into a snapshot: the inspector's multi-table calls (a PostgreSQL
Mart's columns from one catalog query, read by the inspector's rules; a SQLite Mart's pragmas and
CREATE statements fetched for all tables at once, read by the dialect's own code), nothing else.

The snapshot (plain dataclasses) is what introspection, the DDL import and the CSV import all
produce; `catalog.catalog_apply` turns any snapshot into catalog rows and a diff.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import DOMAIN
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import Connection
from sqlalchemy.engine.reflection import ObjectKind, ReflectionDefaults

from workbench.jobs import JobError
from workbench.memory import gc_paused

from ..choices import TableKind

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ColumnSnap:
    name: str
    data_type: str = ""
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    nullable: bool = True
    default: str = ""
    comment: str = ""
    position: int = 0


@dataclass
class ForeignKeySnap:
    columns: list[str]
    referred_table: str
    referred_columns: list[str]
    referred_schema: str = ""
    name: str = ""


@dataclass
class TableSnap:
    name: str
    schema: str = ""
    kind: str = TableKind.TABLE
    comment: str = ""
    columns: list[ColumnSnap] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    unique_constraints: list[dict] = field(default_factory=list)
    indexes: list[dict] = field(default_factory=list)
    foreign_keys: list[ForeignKeySnap] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)


Progress = Callable[[float, str], None]


def read_catalog(
    conn: Connection,
    *,
    schema: str = "",
    progress: Progress | None = None,
    side_conn: Connection | None = None,
) -> list[TableSnap]:
    """Every table and view of `schema` (the default schema when empty) with columns and keys.

    With `side_conn` (a second read-only connection), the secondary calls — unique constraints,
    indexes, comments, view names — run beside the main ones instead of after them.
    """
    report = progress or (lambda _p, _m: None)
    with gc_paused():
        return _read_catalog(conn, schema=schema, report=report, side_conn=side_conn)


def read_catalog_by_inspector(conn: Connection, *, schema: str = "") -> list[TableSnap]:
    """The same snapshot from the inspector's own calls alone, table by table: no catalog query or
    pre-fetched pragma of ours. What the faster readings above must equal (and are tested
    against)."""
    with gc_paused():
        return _read_catalog(
            conn, schema=schema, report=lambda _p, _m: None, side_conn=None, fast=False
        )


def _read_catalog(conn, *, schema: str, report, side_conn, fast: bool = True) -> list[TableSnap]:
    inspector = sa.inspect(conn)
    if schema:
        schemas = inspector.get_schema_names()
        if schema not in schemas:
            raise JobError(
                f"The schema '{schema}' does not exist in the Mart "
                f"(it has: {', '.join(schemas) or 'none'})."
            )
    name = schema or None
    kind = ObjectKind.TABLE | ObjectKind.VIEW
    reflected = None
    if fast and conn.dialect.name == "sqlite":
        report(10, "Reading tables, columns and keys")
        reflected = _sqlite_reflection(conn, name, kind)
    if reflected is None:
        reflected = _reflection(conn, inspector, name, kind, report, side_conn, fast=fast)
    columns, pks, fks, uniques, indexes, comments, views = reflected

    dialect = conn.dialect
    # A foreign key into the search path's schema comes without its schema: when reading another
    # schema, that is the default one (not the table's own).
    unnamed = (inspector.default_schema_name or "") if schema else ""
    type_names: dict = {}  # one compiled name per distinct type, not one per column
    tables = []
    for key in sorted(columns, key=lambda k: k[1]):
        table_name = key[1]
        pk = pks.get(key) or {}
        tables.append(
            TableSnap(
                name=table_name,
                schema=schema,
                kind=TableKind.VIEW if table_name in views else TableKind.TABLE,
                comment=((comments.get(key) or {}).get("text") or ""),
                columns=[
                    _column(col, position, dialect, type_names)
                    for position, col in enumerate(columns[key], start=1)
                ],
                primary_key=list(pk.get("constrained_columns") or []),
                unique_constraints=[
                    {"name": u.get("name") or "", "columns": list(u["column_names"])}
                    for u in uniques.get(key) or []
                ],
                indexes=[
                    {
                        "name": i.get("name") or "",
                        "columns": [c for c in i["column_names"] if c is not None],
                        "unique": bool(i.get("unique")),
                    }
                    for i in indexes.get(key) or []
                ],
                foreign_keys=[
                    ForeignKeySnap(
                        name=fk.get("name") or "",
                        columns=list(fk["constrained_columns"]),
                        referred_schema=fk.get("referred_schema") or unnamed,
                        referred_table=fk["referred_table"],
                        referred_columns=list(fk["referred_columns"]),
                    )
                    for fk in fks.get(key) or []
                ],
            )
        )
    return tables


def _reflection(
    conn, inspector, schema: str | None, kind, report, side_conn, *, fast=True, side=None
) -> tuple:
    """The inspector's multi-table calls the snapshot is made of: columns, primary keys, foreign
    keys, unique constraints, indexes, comments and the names of the views. The secondary ones are
    made on `side_conn` beside the others when given, else after them by the `side` inspector (a
    fresh one by default)."""

    def secondary(side):
        return (
            _optional(lambda: side.get_multi_unique_constraints(schema=schema, kind=kind)),
            _optional(lambda: side.get_multi_indexes(schema=schema, kind=kind)),
            _optional(lambda: side.get_multi_table_comment(schema=schema, kind=kind)),
            set(_optional(lambda: side.get_view_names(schema=schema), default=[]))
            | set(_optional(lambda: side.get_materialized_view_names(schema=schema), default=[])),
        )

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = (
            pool.submit(lambda: secondary(sa.inspect(side_conn))) if side_conn is not None else None
        )
        report(10, "Reading columns")
        columns = _columns(conn, inspector, schema, kind, fast=fast)
        report(30, "Reading primary keys")
        pks = inspector.get_multi_pk_constraint(schema=schema, kind=kind)
        report(40, "Reading foreign keys")
        fks = inspector.get_multi_foreign_keys(schema=schema, kind=kind)
        report(50, "Reading unique constraints, indexes and comments")
        uniques, indexes, comments, views = (
            pending.result() if pending is not None else secondary(side or sa.inspect(conn))
        )
    return columns, pks, fks, uniques, indexes, comments, views


def _columns(
    conn: Connection, inspector, schema: str | None, kind: ObjectKind, *, fast: bool = True
) -> dict:
    """Every table's columns as the inspector's `get_multi_columns` gives them: on PostgreSQL
    from one catalog query (`_postgres_columns`), elsewhere from the inspector."""
    columns = None
    version = conn.dialect.server_version_info or ()
    if fast and conn.dialect.name == "postgresql" and version >= (12,):
        columns = _postgres_columns(conn, inspector, schema, kind)
    if columns is None:
        columns = inspector.get_multi_columns(schema=schema, kind=kind)
    return columns


# The columns of the tables (plain, partitioned, foreign) and views of one schema: the facts the
# inspector reads, in its order. A type's collation is given when it is not the type's own.
_POSTGRES_COLUMNS = """
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.atthasdef THEN pg_get_expr(d.adbin, d.adrelid) END,
       a.attnotnull, ds.description, a.attgenerated,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN a.attcollation END
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute AS a
  ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description AS ds ON ds.objoid = a.attrelid AND ds.objsubid = a.attnum
LEFT JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
WHERE c.relkind IN ('r', 'p', 'f', 'v') AND c.relpersistence <> 't' AND {scope}
"""
_IN_SCHEMA = "n.nspname = {schema}"
_ON_SEARCH_PATH = "pg_catalog.pg_table_is_visible(c.oid) AND n.nspname <> 'pg_catalog'"
_SEQUENCE_DEFAULT = re.compile(r"(nextval\(')([^']+)('.*$)")


def _postgres_column_rows(conn: Connection, schema: str | None) -> list[Any]:
    """The rows of `_POSTGRES_COLUMNS`, by table and then column number. Sorted here, not by the
    server (sorting 30,000 rows this wide spilled to disk), and read with the driver's own
    cursor when it takes named parameters (psycopg: SQLAlchemy's rows cost as much again)."""
    scope = _IN_SCHEMA if schema else _ON_SEARCH_PATH
    params = {"schema": schema} if schema else None
    if conn.dialect.paramstyle == "pyformat":
        cursor = conn.connection.cursor()
        try:
            cursor.execute(
                _POSTGRES_COLUMNS.format(scope=scope.format(schema="%(schema)s")), params
            )
            rows: list[Any] = list(cursor.fetchall())
        finally:
            cursor.close()
    else:
        query = sa.text(_POSTGRES_COLUMNS.format(scope=scope.format(schema=":schema")))
        rows = [tuple(row) for row in conn.execute(query, params or {})]
    rows.sort(key=lambda row: (row[0], row[1] or 0))
    return rows


def _postgres_columns(conn: Connection, inspector, schema: str | None, kind: ObjectKind):
    """`get_multi_columns` of a PostgreSQL schema without its cost per column: the inspector
    parses every column's type in Python (most of a 30,000-column read), where one column of
    each distinct type (and collation) is enough — the others share its type. The inspector
    reflects those few columns' tables; the rest is one catalog query, read by the inspector's
    own rules (a generated column has no default, a sequence's default names the schema). None
    when a column's type is a domain (whose own NOT NULL and default apply): then the inspector
    reads them all."""
    assert kind == ObjectKind.TABLE | ObjectKind.VIEW, "the relkinds above are those"
    rows = _postgres_column_rows(conn, schema)
    samples: dict[tuple, tuple[str, str]] = {}  # (type, collation) → a (table, column) of it
    for table, _number, column, type_name, *_facts, collation in rows:
        if column is not None:
            samples.setdefault((type_name, collation), (table, column))
    reflected = (
        inspector.get_multi_columns(
            schema=schema, kind=kind, filter_names=sorted({t for t, _c in samples.values()})
        )
        if samples
        else {}
    )
    by_place = {
        (key[1], col["name"]): col["type"] for key, cols in reflected.items() for col in cols
    }
    types = {key: by_place[place] for key, place in samples.items()}
    if any(isinstance(type_, DOMAIN) for type_ in types.values()):
        return None
    columns: dict = {}
    for table, _number, column, type_name, default, not_null, comment, generated, collation in rows:
        table_columns = columns.setdefault((schema, table), [])
        if column is None:
            continue  # a table without columns
        if generated not in (None, "", "\x00"):  # stored (or virtual): no default of its own
            default = None
        elif default is not None and schema is not None:
            match = _SEQUENCE_DEFAULT.search(default)
            if match is not None and "." not in match.group(2):
                default = f'{match.group(1)}"{schema}".{match.group(2)}{match.group(3)}'
        table_columns.append(
            {
                "name": column,
                "type": types[(type_name, collation)],
                "nullable": not not_null,
                "default": default,
                "comment": comment,
            }
        )
    return columns


# --- SQLite: the dialect's own reading of every table, its per-table lookups pre-fetched ---------

# Every pragma the SQLite dialect reads a table by, for all tables and views of the main database
# at once (SQLite's table-valued pragma functions): each row is the PRAGMA statement's row (`p.*`,
# its columns checked against these names), in the PRAGMA's order (its own counters, ascending).
_SQLITE_PRAGMAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "table_xinfo": (
        "SELECT m.name, p.* FROM main.sqlite_master AS m"
        " JOIN pragma_table_xinfo(m.name, 'main') AS p"
        " WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid",
        ("cid", "name", "type", "notnull", "dflt_value", "pk", "hidden"),
    ),
    "foreign_key_list": (
        "SELECT m.name, p.* FROM main.sqlite_master AS m"
        " JOIN pragma_foreign_key_list(m.name, 'main') AS p"
        " WHERE m.type IN ('table', 'view') ORDER BY m.name, p.id, p.seq",
        ("id", "seq", "table", "from", "to", "on_update", "on_delete", "match"),
    ),
    "index_list": (
        "SELECT m.name, p.* FROM main.sqlite_master AS m"
        " JOIN pragma_index_list(m.name, 'main') AS p"
        " WHERE m.type IN ('table', 'view') ORDER BY m.name, p.seq",
        ("seq", "name", "unique", "origin", "partial"),
    ),
    # keyed by the index, as the dialect asks for it
    "index_info": (
        "SELECT i.name, p.* FROM main.sqlite_master AS m"
        " JOIN pragma_index_list(m.name, 'main') AS i"
        " JOIN pragma_index_info(i.name, 'main') AS p"
        " WHERE m.type IN ('table', 'view') ORDER BY i.name, p.seqno",
        ("seqno", "cid", "name"),
    ),
}
# Each table's and view's CREATE statement: what `_get_table_sql` reads.
_SQLITE_OBJECTS = (
    "SELECT m.name, m.sql FROM main.sqlite_master AS m WHERE m.type IN ('table', 'view')"
)


@dataclass
class _SQLiteFacts:
    """What the SQLite dialect would look up table by table, looked up once for all tables."""

    schema: str | None
    sql: dict[str, str | None]
    has_rows: dict[str, bool]
    pragmas: dict[tuple[str, str], list[tuple]]


def _sqlite_reflection(conn: Connection, schema: str | None, kind: ObjectKind) -> tuple | None:
    """The inspector's multi-table calls on a SQLite Mart, made by the dialect's own code — the
    same functions, rules and warnings — but with its per-table lookups (a handful of PRAGMA
    statements and a scan of the schema table for the table's CREATE statement, each several
    times) answered from a few queries over all tables. None when the Mart is not one this is
    sure of (an attached database, temporary tables, an older SQLite, a pragma with other
    columns) or anything fails: then the inspector reads it table by table."""
    dialect = conn.dialect
    if schema not in (None, "main") or not isinstance(dialect, SQLiteDialect):
        return None  # an attached database (or another dialect of SQLite): table by table
    try:
        facts = _sqlite_facts(conn, dialect, schema)
        if facts is None:
            return None
        inspector = sa.inspect(conn)  # a new inspector of this read only: nothing shared changes
        inspector.dialect = _prefetched_dialect(dialect, facts)
        return _reflection(conn, inspector, schema, kind, lambda _p, _m: None, None, side=inspector)
    except Exception:  # noqa: BLE001 — whatever it is, the inspector reads the Mart (or says why not)
        logger.info("Reading the SQLite Mart table by table instead", exc_info=True)
        return None


def _sqlite_facts(
    conn: Connection, dialect: SQLiteDialect, schema: str | None
) -> _SQLiteFacts | None:
    if (dialect.server_version_info or ()) < (3, 31):  # the dialect reads table_info then
        return None
    # Without a schema the dialect looks in the temporary database too, after the main one
    if schema is None and conn.exec_driver_sql("SELECT count(*) FROM sqlite_temp_master").scalar():
        return None
    sql: dict[str, str | None] = dict(conn.exec_driver_sql(_SQLITE_OBJECTS).all())
    pragmas: dict[tuple[str, str], list[tuple]] = {}
    for pragma, (query, columns) in _SQLITE_PRAGMAS.items():
        result = conn.exec_driver_sql(query)
        if tuple(result.keys())[1:] != columns:
            return None
        if pragma != "index_info":  # a table without rows of this pragma has none
            pragmas.update({(pragma, name): [] for name in sql})
        for row in result.all():
            pragmas.setdefault((pragma, row[0]), []).append(row[1:])
    # PRAGMA table_info (what `has_table` reads) gives the columns whose table_xinfo "hidden" is 0
    has_rows = {name: any(row[6] == 0 for row in pragmas[("table_xinfo", name)]) for name in sql}
    return _SQLiteFacts(schema=schema, sql=sql, has_rows=has_rows, pragmas=pragmas)


class _PrefetchedSQLite(SQLiteDialect):
    """The connection's SQLite dialect, answering its per-table lookups from `_SQLiteFacts`: the
    rows the PRAGMA statement gives, the CREATE statement, whether the table exists, and one
    type per distinct declared type. Anything else (a table it has no facts of, a partial index's
    CREATE statement) it asks the database as the dialect does."""

    _facts: _SQLiteFacts
    _types: dict[str, Any]

    def _get_table_pragma(self, connection, pragma, table_name, schema=None):
        rows = self._facts.pragmas.get((pragma, table_name))
        if rows is None or schema != self._facts.schema:
            return super()._get_table_pragma(connection, pragma, table_name, schema=schema)
        return list(rows)

    def _get_table_sql(self, connection, table_name, schema=None, **kw):
        sql = self._facts.sql.get(table_name)
        if sql is None or schema != self._facts.schema:
            return super()._get_table_sql(connection, table_name, schema=schema, **kw)
        return sql

    def has_table(self, connection, table_name, schema=None, **kw):
        if table_name not in self._facts.has_rows or schema != self._facts.schema:
            return super().has_table(connection, table_name, schema=schema, **kw)
        return self._facts.has_rows[table_name]

    def get_unique_constraints(self, connection, table_name, schema=None, **kw):
        # The dialect names a UNIQUE constraint of the CREATE statement only when SQLite made an
        # automatic index for it: a table without one has none (and no statement to search).
        indexes = self._facts.pragmas.get(("index_list", table_name))
        if (
            indexes is not None
            and schema == self._facts.schema
            and not any(row[1].startswith("sqlite_autoindex") for row in indexes)
        ):
            return ReflectionDefaults.unique_constraints()
        return super().get_unique_constraints(connection, table_name, schema=schema, **kw)

    def _resolve_type_affinity(self, type_):
        # one type per distinct declared type (the snapshot only reads it)
        resolved = self._types.get(type_)
        if resolved is None:
            resolved = self._types[type_] = super()._resolve_type_affinity(type_)
        return resolved


_PREFETCHED_CLASSES: dict[type, type[_PrefetchedSQLite]] = {}  # per dialect class, made once


def _prefetched_dialect(dialect: SQLiteDialect, facts: _SQLiteFacts) -> _PrefetchedSQLite:
    """A private copy of the connection's dialect (its state copied, never changed) over facts:
    an instance of a subclass of its own class (the driver's), the lookups above put in front."""
    base = type(dialect)
    cls = _PREFETCHED_CLASSES.get(base)
    if cls is None:
        made = type(f"Prefetched{base.__name__}", (_PrefetchedSQLite, base), {})
        cls = _PREFETCHED_CLASSES.setdefault(base, made)
    reader: _PrefetchedSQLite = object.__new__(cls)
    reader.__dict__.update(vars(dialect))
    reader._facts, reader._types = facts, {}
    return reader


def _optional(call, default=None):
    """Some dialects lack a reflection call (SQLite has no table comments): treat as empty."""
    try:
        return call()
    except NotImplementedError:
        return {} if default is None else default


def _column(col: dict, position: int, dialect, type_names: dict | None = None) -> ColumnSnap:
    type_ = col["type"]
    # a type's facts (compiled name, length, precision, scale) depend only on its class and
    # attributes: work them out once per distinct type (the reflection sets the attributes in one
    # order, so they need no sorting to make a key)
    try:
        key = (type(type_), tuple(vars(type_).items()))
        facts = (type_names or {}).get(key)
    except TypeError:  # an attribute that cannot be a key (a list of enum values): work them out
        key, facts = None, None
    if facts is None:
        facts = _type_facts(type_, dialect)
        if key is not None and type_names is not None:
            type_names[key] = facts
    data_type, length, precision, scale = facts
    default = col.get("default")
    return ColumnSnap(
        name=col["name"],
        data_type=data_type,
        length=length,
        precision=precision,
        scale=scale,
        nullable=bool(col.get("nullable", True)),
        default="" if default is None else str(default),
        comment=col.get("comment") or "",
        position=position,
    )


def _type_facts(type_, dialect) -> tuple[str, int | None, int | None, int | None]:
    """ColumnSnap's data_type, length, precision and scale of one reflected type."""
    return (
        _type_name(type_, dialect)[:200],
        _int(getattr(type_, "length", None)),
        _int(getattr(type_, "precision", None)),
        _int(getattr(type_, "scale", None), signed=True),
    )


def _type_name(type_, dialect) -> str:
    try:
        # a view's computed column may have no declared type at all (SQLite): leave it empty
        return "" if isinstance(type_, sa.types.NullType) else type_.compile(dialect=dialect)
    except Exception:  # noqa: BLE001 — an exotic type still gets a name
        return type(type_).__name__.upper()


def _int(value, *, signed: bool = False) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    if value < 0 and not signed:
        return None
    return value


# --- information_schema reader, for dialects whose SQLAlchemy reflection does not work ----------

INFORMATION_SCHEMA_DIALECTS = {"duckdb"}


def read_information_schema(conn: Connection, *, schema: str = "") -> list[TableSnap]:
    """The same snapshot from the ANSI information_schema views (DuckDB's dialect inherits
    PostgreSQL reflection queries it cannot run)."""
    target = schema or conn.execute(sa.select(sa.func.current_schema())).scalar() or "main"
    info = {
        name: sa.table(name, *[sa.column(c) for c in cols], schema="information_schema")
        for name, cols in {
            "schemata": ["schema_name"],
            "tables": ["table_schema", "table_name", "table_type"],
            "columns": [
                "table_schema",
                "table_name",
                "column_name",
                "ordinal_position",
                "column_default",
                "is_nullable",
                "data_type",
                "character_maximum_length",
                "numeric_precision",
                "numeric_scale",
            ],
            "table_constraints": [
                "table_schema",
                "table_name",
                "constraint_name",
                "constraint_type",
            ],
            "key_column_usage": [
                "constraint_schema",
                "constraint_name",
                "table_schema",
                "table_name",
                "column_name",
                "ordinal_position",
            ],
            "referential_constraints": [
                "constraint_schema",
                "constraint_name",
                "unique_constraint_name",
            ],
        }.items()
    }
    schemas = [r[0] for r in conn.execute(sa.select(info["schemata"].c.schema_name))]
    if schema and schema not in schemas:
        raise JobError(
            f"The schema '{schema}' does not exist in the Mart (it has: {', '.join(schemas)})."
        )
    t, c = info["tables"], info["columns"]
    tables: dict[str, TableSnap] = {}
    for name, table_type in conn.execute(
        sa.select(t.c.table_name, t.c.table_type).where(t.c.table_schema == target)
    ):
        kind = TableKind.VIEW if "VIEW" in str(table_type).upper() else TableKind.TABLE
        tables[str(name)] = TableSnap(name=str(name), schema=schema, kind=kind)
    for row in conn.execute(
        sa.select(c)
        .where(c.c.table_schema == target)
        .order_by(c.c.table_name, c.c.ordinal_position)
    ):
        snap = tables.get(row.table_name)
        if snap is None:
            continue
        snap.columns.append(
            ColumnSnap(
                name=row.column_name,
                data_type=str(row.data_type or "")[:200],
                length=_int(row.character_maximum_length),
                precision=_int(row.numeric_precision) if row.numeric_scale is not None else None,
                scale=_int(row.numeric_scale, signed=True) if row.numeric_precision else None,
                nullable=str(row.is_nullable).upper() != "NO",
                default="" if row.column_default is None else str(row.column_default),
                position=int(row.ordinal_position),
            )
        )
    tc, kcu = info["table_constraints"], info["key_column_usage"]
    keys: dict[str, list] = {}
    for row in conn.execute(
        sa.select(kcu.c.constraint_name, kcu.c.table_name, kcu.c.column_name)
        .where(kcu.c.table_schema == target)
        .order_by(kcu.c.constraint_name, kcu.c.ordinal_position)
    ):
        keys.setdefault(row.constraint_name, []).append((row.table_name, row.column_name))
    referred = {
        row.constraint_name: row.unique_constraint_name
        for row in conn.execute(sa.select(info["referential_constraints"]))
    }
    for row in conn.execute(
        sa.select(tc.c.table_name, tc.c.constraint_name, tc.c.constraint_type).where(
            tc.c.table_schema == target
        )
    ):
        snap = tables.get(row.table_name)
        columns = [column for _table, column in keys.get(row.constraint_name, [])]
        if snap is None or not columns:
            continue
        constraint = str(row.constraint_type).upper()
        if constraint == "PRIMARY KEY":
            snap.primary_key = columns
        elif constraint == "UNIQUE":
            snap.unique_constraints.append({"name": row.constraint_name, "columns": columns})
        elif constraint == "FOREIGN KEY":
            target_key = keys.get(referred.get(row.constraint_name, ""), [])
            if target_key:
                snap.foreign_keys.append(
                    ForeignKeySnap(
                        name=row.constraint_name,
                        columns=columns,
                        referred_schema=schema,
                        referred_table=target_key[0][0],
                        referred_columns=[column for _table, column in target_key],
                    )
                )
    return [tables[name] for name in sorted(tables)]
