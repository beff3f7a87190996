"""Spark SQL in local mode (pyspark, a test-only dependency) for the stories of the generated ETL:
one small session for the whole test run (the JVM starts once), the demo Mart's tables registered
in it from the Mart's SQLite file, and the generated `.sql` files executed as shipped."""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from .conftest import missing_service, require_module

STEP = re.compile(r"^-- step: *(\w+)\s*$", re.MULTILINE)


def start_session(workdir: Path) -> Any:
    """A local Spark session sized for a shared CI machine: one core, one shuffle partition, no
    web UI, its warehouse and scratch space under `workdir`. Without pyspark or Java it fails
    under CI=true (skips elsewhere)."""
    require_module("pyspark")
    if shutil.which("java") is None:
        missing_service("Java is not installed (Spark needs a JRE: apt-get install openjdk-17-jre)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("mapping-workbench-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.driver.memory", "768m")
        .config("spark.sql.warehouse.dir", str(workdir / "warehouse"))
        .config("spark.local.dir", str(workdir / "scratch"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={workdir / 'derby'}")
        # Timestamps read back as the wall-clock text they were loaded from, whatever the machine's
        # zone (the tests cast them to STRING before comparing).
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    # py4j says goodbye at interpreter exit, after pytest closed the streams it would log to
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return session


@contextmanager
def scratch_database(session: Any, prefix: str = "wb") -> Iterator[str]:
    """A Spark database of the test's own, made current: the generated SQL names its tables
    without a schema, as it ships."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    session.sql(f"CREATE DATABASE {name}")
    session.catalog.setCurrentDatabase(name)
    try:
        yield name
    finally:
        session.catalog.setCurrentDatabase("default")
        session.sql(f"DROP DATABASE IF EXISTS {name} CASCADE")
        for view in session.catalog.listTables():
            if view.isTemporary:
                session.catalog.dropTempView(view.name)


# --- the Mart -----------------------------------------------------------------------------------


def _spark_type(declared: str) -> Any:
    from pyspark.sql import types

    declared = declared.upper()
    if declared.startswith("INT"):
        return types.LongType()
    numeric = re.fullmatch(r"NUMERIC\((\d+),\s*(\d+)\)", declared)
    if numeric:
        return types.DecimalType(int(numeric[1]), int(numeric[2]))
    return types.StringType()


def register_mart(session: Any, mart_path: str | Path) -> dict[str, int]:
    """Every table of the SQLite Mart file as a temporary view of the same name and columns (the
    Mart's declared types: INTEGER → BIGINT, NUMERIC(p, s) → DECIMAL(p, s), the rest STRING).
    Registering again replaces the views with the file's current rows. Returns rows per table."""
    from pyspark.sql import types

    counts = {}
    source = sqlite3.connect(mart_path)
    try:
        tables = [
            r[0]
            for r in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        for table in tables:
            columns = list(source.execute(f'PRAGMA table_info("{table}")'))
            schema = types.StructType(
                [types.StructField(c[1], _spark_type(c[2]), nullable=True) for c in columns]
            )
            decimals = [isinstance(f.dataType, types.DecimalType) for f in schema.fields]
            rows = [
                tuple(
                    Decimal(str(v)) if is_decimal and v is not None else v
                    for v, is_decimal in zip(row, decimals, strict=True)
                )
                for row in source.execute(f'SELECT * FROM "{table}"')
            ]
            session.createDataFrame(rows, schema).createOrReplaceTempView(table)
            counts[table] = len(rows)
    finally:
        source.close()
    return counts


# --- the generated files ------------------------------------------------------------------------


def statements(text: str) -> list[tuple[str, str]]:
    """(step, statement) of one generated file: each statement follows its `-- step: NAME` line
    and ends with `;` at the end of a line. Text before the first step is the file's header."""
    parts = STEP.split(text)
    out = []
    for step, body in zip(parts[1::2], parts[2::2], strict=True):
        statement = body.strip()
        assert statement.endswith(";"), f"step {step} does not end with ';': {statement[-80:]}"
        out.append((step, statement[:-1].rstrip()))
    return out


def run_file(session: Any, path: Path) -> list[str]:
    """Execute one generated file as shipped, statement by statement; returns the steps run."""
    steps = []
    for step, statement in statements(path.read_text(encoding="utf-8")):
        try:
            session.sql(statement).collect()
        except Exception as error:  # the engine's own message, with the file and step it came from
            raise AssertionError(f"{path.name}, step {step}: {error}\n{statement}") from error
        steps.append(step)
    return steps


def table_rows(session: Any, table: str) -> list[dict]:
    """The rows of one interface table, timestamps as their wall-clock text."""
    from pyspark.sql import types

    frame = session.table(table)
    columns = [
        f"CAST(`{f.name}` AS STRING) AS `{f.name}`"
        if isinstance(f.dataType, types.TimestampType | types.TimestampNTZType)
        else f"`{f.name}`"
        for f in frame.schema.fields
    ]
    return [row.asDict() for row in frame.selectExpr(*columns).collect()]
