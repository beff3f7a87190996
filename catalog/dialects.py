"""The SQL dialect of a Mart: the dialect its mapping rules are written, parsed and stored in.

A source system reached by URL takes it from its SQLAlchemy backend; a BA may override it (a Mart
behind a driver sqlglot knows under another name); a DDL/CSV catalog keeps the dialect chosen at
import. Values are sqlglot dialect names; "" means sqlglot's generic SQL.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, UnsupportedError

# SQLAlchemy backend name → sqlglot dialect
BACKEND_DIALECTS = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "mssql": "tsql",
    "oracle": "oracle",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "redshift": "redshift",
    "trino": "trino",
    "presto": "presto",
    "hive": "hive",
    "clickhouse": "clickhouse",
    "teradata": "teradata",
}

LABELS = {
    "": "Generic SQL",
    "postgres": "PostgreSQL SQL",
    "mysql": "MySQL SQL",
    "sqlite": "SQLite SQL",
    "duckdb": "DuckDB SQL",
    "tsql": "T-SQL",
    "oracle": "Oracle SQL",
    "snowflake": "Snowflake SQL",
    "bigquery": "BigQuery SQL",
}

# The name a refusal uses for the dialect ("… is not a SQLite function").
NAMES = {
    "": "generic SQL",
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "sqlite": "SQLite",
    "duckdb": "DuckDB",
    "tsql": "SQL Server",
    "oracle": "Oracle",
    "snowflake": "Snowflake",
    "bigquery": "BigQuery",
}


def known_dialects() -> list[str]:
    """sqlglot's dialect names."""
    return sorted(d for d in Dialect.classes if d)


def dialect_for_backend(backend: str) -> str:
    """The sqlglot dialect of a SQLAlchemy backend; "" (generic) when sqlglot has no such one."""
    backend = (backend or "").split("+", 1)[0].lower()
    name = BACKEND_DIALECTS.get(backend, backend)
    return name if name in Dialect.classes else ""


def check_dialect(name: str, *, field: str = "dialect") -> str:
    """A dialect name as stored: lower case, one sqlglot knows (or "" for generic SQL)."""
    name = (name or "").strip().lower()
    if name and name not in Dialect.classes:
        raise ValidationError(
            {field: f"Unknown SQL dialect '{name}' (known: {', '.join(known_dialects())})."}
        )
    return name


def dialect_label(name: str) -> str:
    """How the UI names the rules' language, e.g. "PostgreSQL SQL"."""
    return LABELS.get(name or "", f"{dialect_name(name)} SQL")


def dialect_name(name: str) -> str:
    """How a message names the dialect, e.g. "PostgreSQL"."""
    return NAMES.get(name or "", name)


# --- the target dialects of the generated ETL ----------------------------------------------------
# A rule's tree is parsed in the Mart's dialect, so it carries that dialect's meaning: rendered for
# the same dialect it is the rule as written (sqlglot adds no null-ordering or CONCAT_WS rewrites
# then); rendered for another, sqlglot transpiles it, and a construct the target has no equivalent
# for is refused (UnsupportedError) rather than emitted approximately.

ETL_DIALECTS = ("postgres", "sqlite", "duckdb", "snowflake", "bigquery", "spark", "tsql")


def inexpressible(tree: exp.Expr, source: str) -> dict[str, str]:
    """ETL target dialect → why it cannot express `tree` (written in `source`); {} when all can."""
    refused: dict[str, str] = {}
    for target in ETL_DIALECTS:
        if target == source:
            continue
        try:
            tree.sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError as error:
            refused[target] = str(error).strip()
    return refused


# --- meanings sqlglot does not carry across -----------------------------------------------------
# SQLite's LOWER and UPPER change the 26 ASCII letters only ('É' stays 'É'); every other engine's
# change every letter. A rule written for a SQLite Mart keeps SQLite's meaning on any target: its
# case functions are marked (`as_written`) and rendered for the target (`for_target`) as LOWER or
# UPPER on SQLite and as a TRANSLATE of the ASCII letters elsewhere.

ASCII_CASE_DIALECTS = {"sqlite"}
_UPPER_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER_LETTERS = _UPPER_LETTERS.lower()


class AsciiLower(exp.Expression, exp.Func):
    """LOWER of a dialect that lower-cases ASCII letters only."""

    arg_types = {"this": True}


class AsciiUpper(exp.Expression, exp.Func):
    """UPPER of a dialect that upper-cases ASCII letters only."""

    arg_types = {"this": True}


_Tree = TypeVar("_Tree", bound=exp.Expr)


def as_written(tree: _Tree, dialect: str) -> _Tree:
    """A copy of `tree` (parsed in `dialect`) whose case functions keep that dialect's meaning."""
    tree = tree.copy()
    if dialect not in ASCII_CASE_DIALECTS:
        return tree
    for node in list(tree.find_all(exp.Lower, exp.Upper)):
        marked = AsciiLower if isinstance(node, exp.Lower) else AsciiUpper
        replaced = node.replace(marked(this=node.this))
        if node is tree:
            tree = replaced  # type: ignore[assignment]  # a marked case function as the root
    return tree


def for_target(tree: exp.Expr, dialect: str) -> exp.Expr:
    """`tree` with its marked case functions as `dialect` expresses them (the tree itself when it
    has none)."""
    if tree.find(AsciiLower, AsciiUpper) is None:
        return tree
    tree = tree.copy()
    for node in list(tree.find_all(AsciiLower, AsciiUpper)):
        replaced = node.replace(_case_for(node, dialect))
        if node is tree:
            tree = replaced
    return tree


# Engines without TRANSLATE: the letters are replaced one by one (26 nested REPLACEs).
NO_TRANSLATE = {"mysql"}


def _case_for(node: exp.Expr, dialect: str) -> exp.Expr:
    lower = isinstance(node, AsciiLower)
    if dialect in ASCII_CASE_DIALECTS:
        return exp.Lower(this=node.this) if lower else exp.Upper(this=node.this)
    source, target = (_UPPER_LETTERS, _LOWER_LETTERS) if lower else (_LOWER_LETTERS, _UPPER_LETTERS)
    if dialect in NO_TRANSLATE:
        value = node.this
        for old, new in zip(source, target, strict=True):
            value = exp.Anonymous(
                this="REPLACE",
                expressions=[value, exp.Literal.string(old), exp.Literal.string(new)],
            )
        return value
    return exp.Anonymous(
        this="TRANSLATE",
        expressions=[node.this, exp.Literal.string(source), exp.Literal.string(target)],
    )
