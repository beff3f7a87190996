"""A SQLite Mart is read in a handful of queries over all its tables (SQLite's table-valued pragma
functions and one read of its schema table) and parsed by the SQLAlchemy dialect's own code: the
snapshot is exactly the one the inspector's reading table by table gives, whatever the Mart holds
(views, tables without rowid, generated columns, odd names, composite and named keys, foreign keys
to other columns than the primary key, expression and partial indexes) — and a Mart it is not sure
of is read by the inspector instead."""

from __future__ import annotations

import contextlib
import random
import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from catalog.services import introspection
from catalog.services.connection import read_only_engine

# Both readings run the dialect's code, which warns alike about what it cannot reflect (an
# expression-based index, a foreign key its parser cannot match).
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")

RICH_MART = '''
CREATE TABLE parent (
    id INTEGER PRIMARY KEY,
    code VARCHAR(10) NOT NULL UNIQUE,
    region TEXT DEFAULT 'it''s north',
    CONSTRAINT uq_parent_code_region UNIQUE (code, region)
);
CREATE TABLE child (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id INTEGER REFERENCES parent,
    parent_code VARCHAR(10) REFERENCES parent (code) ON DELETE CASCADE,
    amount NUMERIC(12, 2) DEFAULT 0,
    ratio DOUBLE PRECISION,
    note TEXT NOT NULL DEFAULT 'n/a',
    created TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    stamped TEXT DEFAULT (datetime('now')),
    flag BOOLEAN NOT NULL DEFAULT 1,
    raw BLOB,
    untyped,
    CONSTRAINT fk_child_region FOREIGN KEY (parent_code, note) REFERENCES parent (code, region),
    FOREIGN KEY (parent_id) REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (parent_id, note)
);
CREATE TABLE composite (a INTEGER, b TEXT, c BLOB, d, PRIMARY KEY (a, b));
CREATE TABLE "key ""quoted"" table" (
    "weird ""col""" INT,
    "b part" TEXT,
    "with.dot" REAL,
    CONSTRAINT "fk ""named""" FOREIGN KEY ("weird ""col""", "b part") REFERENCES composite (a, b)
);
CREATE TABLE no_rowid (k TEXT PRIMARY KEY, v INT NOT NULL) WITHOUT ROWID;
CREATE TABLE named_pk (x INT, y INT, z TEXT, CONSTRAINT pk_named PRIMARY KEY (y, x));
CREATE TABLE computed (
    id INTEGER PRIMARY KEY,
    price REAL,
    doubled REAL GENERATED ALWAYS AS (price * 2) VIRTUAL,
    tripled REAL AS (price * 3) STORED,
    label TEXT GENERATED ALWAYS AS ('p' || id)
);
CREATE TABLE [bracket table] ([bracket col] INT PRIMARY KEY, `back tick` TEXT UNIQUE);
CREATE TABLE "order" ("group" INT, "where" TEXT UNIQUE, "select" INT REFERENCES "order" ("group"));
CREATE TABLE "Order Lines" (
    "order" INTEGER PRIMARY KEY, "select" TEXT, "MixedCase" TEXT, "first name" TEXT,
    "prénom" TEXT, "größe" INTEGER CONSTRAINT fk_inline REFERENCES "order" ("group")
);
CREATE TABLE dangling (
    id INTEGER PRIMARY KEY,
    ghost_id INTEGER REFERENCES missing_table,
    shouted INTEGER REFERENCES "PARENT",
    other INTEGER REFERENCES child (id) ON UPDATE SET NULL
);
CREATE TABLE many_types (
    a INT, b BIGINT, c SMALLINT, d TINYINT(1), e "UNSIGNED BIG INT", f CHAR(3), g NVARCHAR(5),
    h "VARYING CHARACTER"(255), i CLOB, j FLOAT, k REAL, l DECIMAL(10, 3), m DATE, n DATETIME,
    o TIME, p JSON, q "weird type", r VARCHAR, s NUMERIC(7), t DOUBLE
);
CREATE INDEX ix_child_amount ON child (amount);
CREATE UNIQUE INDEX ux_child_note ON child (note, ratio);
CREATE INDEX ix_expr ON child (lower(note));
CREATE INDEX ix_mixed_expr ON child (parent_id, amount * 2);
CREATE INDEX ix_partial ON child (ratio) WHERE ratio > 0;
CREATE UNIQUE INDEX ux_partial ON no_rowid (v) WHERE v IS NOT NULL;
CREATE INDEX "odd index ""name""" ON "Order Lines" ("first name", "prénom");
CREATE INDEX ix_computed ON computed (doubled);
CREATE VIEW v_child AS
    SELECT c.id, c.amount * 2 AS double_amount, p.code FROM child AS c JOIN parent AS p
    ON p.id = c.parent_id;
CREATE VIEW "view with space" AS SELECT 1 AS one, 'x', NULL AS "nothing";
INSERT INTO parent (code) VALUES ('a'), ('b');
INSERT INTO child (parent_id, note) VALUES (1, 'x');
ANALYZE;
'''


def build(path, script: str) -> None:
    db = sqlite3.connect(path)
    try:
        db.executescript(script)
        if sqlite3.sqlite_version_info >= (3, 37):
            db.execute("CREATE TABLE strict_t (id INTEGER PRIMARY KEY, n INT, s TEXT) STRICT")
        # a virtual table has hidden columns (and its shadow tables are plain tables); an SQLite
        # without FTS5 has none
        with contextlib.suppress(sqlite3.OperationalError):
            db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body)")
        db.commit()
    finally:
        db.close()


@pytest.fixture
def readings(monkeypatch):
    """Every SQLite reading of `read_catalog`: True when the pre-fetched reading gave the facts,
    False when the inspector read the Mart table by table."""
    taken: list[bool] = []
    fast = introspection._sqlite_reflection

    def noted(*args, **kwargs):
        reflected = fast(*args, **kwargs)
        taken.append(reflected is not None)
        return reflected

    monkeypatch.setattr(introspection, "_sqlite_reflection", noted)
    return taken


def read_both(path, schema: str = "", *, on=None):
    """The Mart read as the workbench reads it (read-only, under the statement timeout) and by
    the inspector alone, on one connection."""
    mart = read_only_engine(make_url(f"sqlite:///{path}"))
    try:
        with mart.engine.connect() as conn:
            if on is not None:
                on(conn)
            return (
                introspection.read_catalog(conn, schema=schema),
                introspection.read_catalog_by_inspector(conn, schema=schema),
            )
    finally:
        mart.engine.dispose()


@pytest.mark.parametrize("schema", ["", "main"])
def test_a_rich_mart_reads_exactly_as_the_inspector_reads_it(tmp_path, readings, schema):
    path = tmp_path / "rich.sqlite3"
    build(path, RICH_MART)

    ours, inspectors = read_both(path, schema)

    assert readings == [True], "the pre-fetched reading gave the facts"
    assert ours == inspectors
    tables = {t.name: t for t in ours}
    assert "sqlite_sequence" not in tables and "sqlite_stat1" not in tables
    # the cases are there: a view, generated columns, keys and the indexes the dialect reflects
    assert tables["v_child"].kind == "view"
    assert [c.name for c in tables["computed"].columns] == [
        "id",
        "price",
        "doubled",
        "tripled",
        "label",
    ]
    assert tables["named_pk"].primary_key == ["y", "x"]
    assert tables["composite"].primary_key == ["a", "b"]
    assert {"name": "uq_parent_code_region", "columns": ["code", "region"]} in tables[
        "parent"
    ].unique_constraints
    assert {(fk.name, tuple(fk.referred_columns)) for fk in tables["child"].foreign_keys} >= {
        ("fk_child_region", ("code", "region")),
        ("", ("code",)),
    }
    assert {i["name"] for i in tables["child"].indexes} >= {"ix_child_amount", "ix_partial"}
    if "docs" in tables:
        assert [c.name for c in tables["docs"].columns] == ["title", "body"]


def test_the_demo_mart_reads_exactly_as_the_inspector_reads_it(demo_mart_file, readings):
    ours, inspectors = read_both(demo_mart_file)

    assert readings == [True]
    assert ours == inspectors
    assert len(ours) == 7


# --- a generated Mart: random names, types and keys ------------------------------------------

NAMES = [
    "id",
    "Name",
    "first name",
    'say "hi"',
    "prénom",
    "größe",
    "select",
    "order",
    "group",
    "from",
    "Customer Segment",
    "x1",
    "amount_gbp",
    "ünïcode näme",
    "a'b",
    "with.dot",
    "MiXeD",
    "code",
    "parent_id",
    "value",
    "日付",
    "key",
    "index",
]
TYPES = [
    "INTEGER",
    "INT",
    "BIGINT",
    "TEXT",
    "VARCHAR(20)",
    "NVARCHAR(5)",
    "CHAR(3)",
    "NUMERIC(12, 2)",
    "DECIMAL(10,3)",
    "REAL",
    "DOUBLE PRECISION",
    "FLOAT",
    "BOOLEAN",
    "DATE",
    "DATETIME",
    "TIMESTAMP",
    "BLOB",
    "",
    "CLOB",
    '"weird type"',
    "JSON",
    "TINYINT(1)",
    "UNSIGNED BIG INT",
    "VARCHAR",
]
DEFAULTS = ["0", "'x'", "(1 + 2)", "CURRENT_TIMESTAMP", "-1.5", "NULL", "'it''s'"]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def random_mart(seed: int, tables: int = 50) -> str:
    """`tables` tables (and a few views) of random names, types, keys and indexes."""
    rng = random.Random(seed)
    made: list[tuple[str, list[str]]] = []  # (table, its non-generated columns)
    statements: list[str] = []
    for number in range(tables):
        name = f"{rng.choice(NAMES)} {number}" if rng.random() < 0.6 else f"t{number}"
        if rng.random() < 0.2:
            name = name.upper()
        count = rng.randint(1, 8)
        names: list[str] = []
        for column in rng.sample(NAMES, k=min(count, len(NAMES))):
            if column.lower() not in {n.lower() for n in names}:
                names.append(column)
        plain = [names[0]]  # the first column is never generated
        definitions = []
        pk = rng.choice(["none", "inline", "table", "named"])
        for position, column in enumerate(names):
            definition = f"{quote(column)} {rng.choice(TYPES)}".rstrip()
            if position and rng.random() < 0.12:
                definition += f" GENERATED ALWAYS AS ({position} * 2)"
                definition += rng.choice(["", " VIRTUAL", " STORED"])
                definitions.append(definition)
                continue
            if position:
                plain.append(column)
            if position == 0 and pk == "inline":
                definition += " PRIMARY KEY"
            if rng.random() < 0.2:
                definition += " NOT NULL"
            if rng.random() < 0.2:
                definition += f" DEFAULT {rng.choice(DEFAULTS)}"
            if rng.random() < 0.1:
                definition += " UNIQUE"
            if made and rng.random() < 0.15:
                target, target_columns = rng.choice(made)
                definition += f" REFERENCES {quote(target)}"
                if rng.random() < 0.6:
                    definition += f" ({quote(rng.choice(target_columns))})"
            definitions.append(definition)
        keys: list[str] = []
        if pk in ("table", "named"):
            keys = rng.sample(plain, k=min(len(plain), rng.randint(1, 2)))
            constraint = f"CONSTRAINT {quote('pk ' + name)} " if pk == "named" else ""
            definitions.append(f"{constraint}PRIMARY KEY ({', '.join(map(quote, keys))})")
        if rng.random() < 0.3:
            unique_columns = rng.sample(plain, k=min(len(plain), rng.randint(1, 2)))
            constraint = rng.choice(["", f"CONSTRAINT {quote('uq ' + name)} ", "CONSTRAINT uq_x "])
            definitions.append(f"{constraint}UNIQUE ({', '.join(map(quote, unique_columns))})")
        for _ in range(rng.choice([0, 0, 1, 2])):
            target, target_columns = rng.choice([*made, (name, plain)])
            width = min(len(plain), len(target_columns), rng.randint(1, 2))
            constrained = rng.sample(plain, k=width)
            referred = rng.sample(target_columns, k=width)
            constraint = rng.choice(["", f"CONSTRAINT {quote('fk ' + str(len(statements)))} "])
            reference = f" ({', '.join(map(quote, referred))})" if rng.random() < 0.8 else ""
            definitions.append(
                f"{constraint}FOREIGN KEY ({', '.join(map(quote, constrained))}) "
                f"REFERENCES {quote(target)}{reference}"
                + rng.choice(["", " ON DELETE CASCADE", " ON UPDATE SET NULL"])
            )
        without_rowid = " WITHOUT ROWID" if (pk != "none" and rng.random() < 0.2) else ""
        statements.append(f"CREATE TABLE {quote(name)} ({', '.join(definitions)}){without_rowid}")
        for index in range(rng.choice([0, 0, 1, 2])):
            indexed = rng.sample(plain, k=min(len(plain), rng.randint(1, 2)))
            parts = [quote(c) for c in indexed]
            if rng.random() < 0.2:
                parts.append(f"lower({quote(indexed[0])})")
            where = f" WHERE {quote(indexed[0])} IS NOT NULL" if rng.random() < 0.2 else ""
            unique = "UNIQUE " if rng.random() < 0.3 else ""
            index_name = quote(f"ix {number} {index} {rng.choice(NAMES)}")
            statements.append(
                f"CREATE {unique}INDEX {index_name} ON {quote(name)} ({', '.join(parts)}){where}"
            )
        made.append((name, plain))
    for number in range(5):
        target, target_columns = rng.choice(made)
        selected = ", ".join(f"{quote(c)} AS {quote(c + ' v')}" for c in target_columns)
        statements.append(
            f"CREATE VIEW {quote(f'v {number} {target}')} AS SELECT {selected}, 1 + 1 "
            f"FROM {quote(target)}"
        )
    return ";\n".join(statements) + ";"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_mart_reads_exactly_as_the_inspector_reads_it(tmp_path, readings, seed):
    path = tmp_path / f"random{seed}.sqlite3"
    build(path, random_mart(seed))

    ours, inspectors = read_both(path)

    assert readings == [True]
    assert ours == inspectors
    assert len(ours) >= 55  # the tables, the views (and FTS5's tables)
    assert any(t.foreign_keys for t in ours) and any(t.unique_constraints for t in ours)


# --- the reading the benchmark measures ------------------------------------------------------


def test_a_thousand_tables_are_read_in_a_few_queries(tmp_path, readings):
    # Given the benchmark's Mart: 1,000 tables × 30 columns, a primary key and a foreign key each
    from bench.bench_catalog import build_sqlite_mart

    path = tmp_path / "wide.sqlite3"
    build_sqlite_mart(str(path))
    mart = read_only_engine(make_url(f"sqlite:///{path}"))
    statements: list[str] = []
    sa.event.listen(mart.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        with mart.engine.connect() as conn:
            # When the workbench reads it
            tables = introspection.read_catalog(conn)
    finally:
        mart.engine.dispose()

    # Then it takes the pre-fetched reading: a handful of statements, not several per table
    assert readings == [True]
    assert len(tables) == 1000 and sum(len(t.columns) for t in tables) == 30_000
    assert len(statements) <= 15, statements
    assert tables[1].name == "t10" and tables[1].foreign_keys[0].referred_table == "t9"


# --- a Mart it is not sure of: the inspector reads it ----------------------------------------


def test_an_attached_database_is_read_by_the_inspector(tmp_path, readings):
    other = tmp_path / "other.sqlite3"
    build(other, RICH_MART)
    path = tmp_path / "main.sqlite3"
    build(path, "CREATE TABLE lonely (id INTEGER PRIMARY KEY);")

    def attach(conn):
        conn.exec_driver_sql(f"ATTACH DATABASE 'file:{other}?mode=ro' AS other")

    ours, inspectors = read_both(path, "other", on=attach)

    assert readings == [False]
    assert ours == inspectors
    assert "child" in {t.name for t in ours}


def test_with_a_temporary_table_the_inspector_reads_the_mart(tmp_path, readings):
    # Without a schema the dialect looks for each table in the temporary database too
    path = tmp_path / "rich.sqlite3"
    build(path, RICH_MART)

    def temporary(conn):
        conn.exec_driver_sql("PRAGMA query_only = OFF")
        conn.exec_driver_sql("CREATE TEMP TABLE scratch (id INTEGER PRIMARY KEY)")

    ours, inspectors = read_both(path, on=temporary)

    assert readings == [False]
    assert ours == inspectors


def test_when_the_prefetch_fails_the_inspector_reads_the_mart(tmp_path, readings, monkeypatch):
    path = tmp_path / "rich.sqlite3"
    build(path, RICH_MART)

    def broken(*_args, **_kwargs):
        raise sa.exc.OperationalError("SELECT ...", {}, Exception("no such function"))

    monkeypatch.setattr(introspection, "_sqlite_facts", broken)

    ours, inspectors = read_both(path)

    assert readings == [False]
    assert ours == inspectors
    assert len(ours) > 10


def test_a_pragma_with_other_columns_is_not_trusted(tmp_path, readings, monkeypatch):
    path = tmp_path / "rich.sqlite3"
    build(path, RICH_MART)
    query, columns = introspection._SQLITE_PRAGMAS["index_list"]
    monkeypatch.setitem(
        introspection._SQLITE_PRAGMAS, "index_list", (query, (*columns, "something new"))
    )

    ours, inspectors = read_both(path)

    assert readings == [False]
    assert ours == inspectors


def test_the_connections_dialect_is_left_as_it_was(tmp_path):
    path = tmp_path / "rich.sqlite3"
    build(path, RICH_MART)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        introspection.read_catalog_by_inspector(conn)  # whatever a reading sets up, set up
        dialect_class, state = type(engine.dialect), dict(vars(engine.dialect))

        introspection.read_catalog(conn)

    assert type(engine.dialect) is dialect_class
    assert vars(engine.dialect) == state
    engine.dispose()
