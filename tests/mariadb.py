"""A scratch MariaDB database per test (root, empty password, 127.0.0.1:3306), dropped after."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

SERVER = "mysql+pymysql://root@127.0.0.1:3306"


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """Create a database of its own; yield its URL; drop it whatever happened."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(f"{SERVER}/", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield f"{SERVER}/{name}?charset=utf8mb4"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


def _mysql_type(declared: str) -> str:
    declared = declared.upper()
    if declared.startswith("INT"):
        return "BIGINT"
    if declared.startswith("NUMERIC"):
        return declared.replace("NUMERIC", "DECIMAL")
    return "TEXT"


def copy_sqlite(path, url: str) -> None:
    """Every table of a SQLite database copied (columns and rows, no keys) into a MariaDB one."""
    source = sqlite3.connect(path)
    tables = [
        r[0]
        for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    ]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in tables:
            columns = list(source.execute(f'PRAGMA table_info("{table}")'))
            definition = ", ".join(f"`{c[1]}` {_mysql_type(c[2])}" for c in columns)
            conn.exec_driver_sql(f"CREATE TABLE `{table}` ({definition})")
            names = [c[1] for c in columns]
            insert = sa.table(table, *[sa.column(n) for n in names]).insert()
            rows = [
                dict(zip(names, row, strict=True))
                for row in source.execute(f'SELECT * FROM "{table}"')
            ]
            if rows:
                conn.execute(insert, rows)
    engine.dispose()
    source.close()
