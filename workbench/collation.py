"""Text ordered by the database as Python orders strings (by code point), whatever the database's
own collation: where rows read in the database's order meet rows sorted in Python."""

from __future__ import annotations

from django.db import connection
from django.db.models.functions import Collate


def code_point_sql(column: str) -> str:
    """A text column as an ORDER BY term of raw SQL: SQLite compares text by code point already;
    PostgreSQL does under the "C" collation."""
    return f'{column} COLLATE "C"' if connection.vendor == "postgresql" else column


def code_point_order(expression):
    """A text expression of the ORM, ordered as `code_point_sql` orders a column."""
    return Collate(expression, "C") if connection.vendor == "postgresql" else expression
