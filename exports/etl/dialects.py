"""Target dialects of the generated ETL, and which of them cannot express a rule.

A rule's tree is parsed in the Mart's dialect (mappings.compiled), so it carries that dialect's
meaning: rendered for the same dialect it is the rule as written (sqlglot adds no null-ordering or
CONCAT_WS rewrites then); rendered for another dialect sqlglot transpiles it, and a construct the
target has no equivalent for is refused (UnsupportedError) rather than emitted approximately.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

DIALECTS = ("postgres", "sqlite", "duckdb", "snowflake", "bigquery", "spark", "tsql")


def inexpressible(tree: exp.Expr, source: str) -> dict[str, str]:
    """Target dialect → why it cannot express `tree` (written in `source`); {} when all can."""
    refused: dict[str, str] = {}
    for target in DIALECTS:
        if target == source:
            continue
        try:
            tree.sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError as error:
            refused[target] = str(error).strip()
    return refused
