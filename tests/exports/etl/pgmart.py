"""The demo Mart copied into a PostgreSQL schema of the test database server (created and dropped
by the caller)."""

from __future__ import annotations

import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

PG_URL = os.environ.get("ETL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pg_type(declared: str) -> str:
    declared = declared.upper()
    if declared.startswith("INT"):
        return "BIGINT"
    if declared.startswith("NUMERIC"):
        return declared
    return "TEXT"


def unique_schema(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def copy_mart(mart_path, engine: sa.Engine, schema: str | None) -> None:
    """Copy every table of the SQLite Mart into `schema` (created here), or into the database's
    default schema when `schema` is None (PostgreSQL's public, DuckDB's main)."""
    source = sqlite3.connect(mart_path)
    tables = [
        r[0]
        for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    ]
    with engine.begin() as conn:
        if schema:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        prefix = f'"{schema}".' if schema else ""
        for table in tables:
            columns = list(source.execute(f'PRAGMA table_info("{table}")'))
            definition = ", ".join(f'"{c[1]}" {pg_type(c[2])}' for c in columns)
            conn.exec_driver_sql(f'CREATE TABLE {prefix}"{table}" ({definition})')
            names = [c[1] for c in columns]
            params = [f"p{i}" for i in range(len(names))]
            insert = sa.text(
                f'INSERT INTO {prefix}"{table}" ({", ".join(chr(34) + n + chr(34) for n in names)}) '
                f"VALUES ({', '.join(':' + p for p in params)})"
            )
            rows = [
                dict(zip(params, row, strict=True))
                for row in source.execute(f'SELECT * FROM "{table}"')
            ]
            if rows:
                conn.execute(insert, rows)
    source.close()


def drop_schema(engine: sa.Engine, schema: str) -> None:
    assert re.fullmatch(r"\w+", schema)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of its own for one test (its URL), dropped afterwards."""
    name = unique_schema(prefix)
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
