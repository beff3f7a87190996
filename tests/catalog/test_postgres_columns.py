"""A PostgreSQL Mart's columns are read with one catalog query, each distinct type reflected once
by the inspector: whatever the columns (serials and identities, generated columns, collations,
enums, arrays, comments, a view, a partitioned table, a table without columns, a dropped
column), the snapshot is exactly the one the inspector's own reading of every column gives."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from catalog.services import introspection
from tests.conftest import POSTGRES_ADDRESS, _reachable, missing_service
from tests.exports.etl.pgmart import scratch_database

pytestmark = [pytest.mark.postgres]

MART = """
CREATE SCHEMA odd;
CREATE TYPE odd.mood AS ENUM ('sad', 'ok', 'happy');
CREATE SEQUENCE odd.ticket_seq;
CREATE TABLE odd.every_type (
    id bigserial PRIMARY KEY,
    small smallint DEFAULT 7,
    ident integer GENERATED ALWAYS AS IDENTITY,
    code varchar(12) COLLATE "C" NOT NULL,
    name varchar(12),
    note text DEFAULT 'n/a',
    price numeric(12, 2),
    ratio numeric,
    gone integer,
    real_value real,
    wide double precision,
    flag boolean NOT NULL DEFAULT true,
    born date,
    seen timestamp(3),
    seen_tz timestamptz DEFAULT now(),
    span interval,
    raw bytea,
    doc jsonb,
    tags text[],
    scores integer[],
    uid uuid,
    ip inet,
    mood odd.mood DEFAULT 'ok',
    initials char(3),
    ticket bigint DEFAULT nextval('odd.ticket_seq'),
    doubled numeric GENERATED ALWAYS AS (price * 2) STORED
);
ALTER TABLE odd.every_type DROP COLUMN gone;
COMMENT ON COLUMN odd.every_type.code IS 'A coded value, "quoted"';
COMMENT ON COLUMN odd.every_type.mood IS 'How it went';
CREATE TABLE odd.no_columns ();
CREATE TABLE odd.parted (id integer NOT NULL, at date) PARTITION BY RANGE (at);
CREATE TABLE odd."Mixed Case" ("Id" serial PRIMARY KEY, "Ünï" varchar(5) COLLATE "C");
CREATE VIEW odd.v_every AS SELECT id, code, price * 2 AS double_price, mood FROM odd.every_type;
CREATE TABLE public.plain (id serial PRIMARY KEY, label varchar(5) NOT NULL DEFAULT 'x');
CREATE SCHEMA dom;
CREATE DOMAIN dom.positive AS integer NOT NULL DEFAULT 1 CHECK (VALUE > 0);
CREATE TABLE dom.with_domain (n dom.positive, m integer);
"""


@pytest.fixture(scope="module")
def mart():
    if not _reachable(POSTGRES_ADDRESS):
        missing_service("PostgreSQL is not reachable on 127.0.0.1:5432")
    with scratch_database("wb_test_columns") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(MART)
        yield engine
        engine.dispose()


def read(engine, schema: str, *, search_path: str | None = None):
    with engine.connect() as conn:
        if search_path:
            conn.exec_driver_sql(f"SET search_path = {search_path}")
        return introspection.read_catalog(conn, schema=schema)


def as_the_inspector_reads_them(monkeypatch, engine, schema: str, **kw):
    with monkeypatch.context() as patch:
        patch.setattr(introspection, "_postgres_columns", lambda *_a, **_k: None)
        return read(engine, schema, **kw)


@pytest.mark.parametrize(
    ("schema", "search_path"),
    [
        ("odd", None),
        # the Mart's own schema first: its sequences' defaults are written without the schema,
        # which the inspector adds back
        ("odd", "odd, public"),
        ("", None),  # the database's default schema
    ],
)
def test_every_kind_of_column_reads_as_the_inspector_reads_it(
    mart, monkeypatch, schema, search_path
):
    ours = read(mart, schema, search_path=search_path)

    assert ours == as_the_inspector_reads_them(monkeypatch, mart, schema, search_path=search_path)
    assert ours, "the schema has tables"


def test_the_catalog_query_is_what_reads_the_columns(mart, monkeypatch):
    # Given the inspector's reading of columns counted
    calls = []
    inspector_columns = sa.engine.reflection.Inspector.get_multi_columns

    def counted(self, *args, **kwargs):
        calls.append(kwargs.get("filter_names"))
        return inspector_columns(self, *args, **kwargs)

    monkeypatch.setattr(sa.engine.reflection.Inspector, "get_multi_columns", counted)

    # When the schema is read
    tables = {t.name: t for t in read(mart, "odd")}

    # Then the inspector reflected only the tables holding the first column of each type
    assert len(calls) == 1 and calls[0] and len(calls[0]) < len(tables)
    every = {c.name: c for c in tables["every_type"].columns}
    assert "gone" not in every and tables["no_columns"].columns == []
    assert (every["code"].data_type, every["code"].comment) == (
        'VARCHAR(12) COLLATE "C"',
        'A coded value, "quoted"',
    )
    assert every["doubled"].default == "" and every["ident"].default == ""
    assert every["ticket"].default == "nextval('odd.ticket_seq'::regclass)"


def test_a_domain_column_is_read_by_the_inspector_with_the_domains_own_rules(mart, monkeypatch):
    (table,) = read(mart, "dom")

    n = table.columns[0]
    assert (n.name, n.nullable, n.default) == ("n", False, "1")
    assert [table] == as_the_inspector_reads_them(monkeypatch, mart, "dom")


def test_a_driver_without_named_parameters_reads_the_same_columns(mart):
    # Given the Mart through a driver taking positional parameters (as pg8000 does), whose rows
    # are read through SQLAlchemy rather than the driver's own cursor
    positional = sa.create_engine(mart.url, paramstyle="format")
    try:
        assert positional.dialect.paramstyle != mart.dialect.paramstyle == "pyformat"
        # Then the snapshot is the same, table by table and column by column
        assert read(positional, "odd") == read(mart, "odd")
        assert read(positional, "") == read(mart, "")
    finally:
        positional.dispose()
