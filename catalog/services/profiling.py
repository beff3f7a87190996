"""Data profiling of Mart tables on sample data, set-based.

Per table: one aggregate query for every scalar figure of every column (row count, null and
distinct counts, min/max, text lengths) over a sample of at most `sample_rows` rows; one GROUP BY
per repeating column for its top values; one small read of the first rows to detect text patterns.
Identifiers are quoted by SQLAlchemy; no SQL text is built from names.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable

import sqlalchemy as sa
from django.contrib.auth.models import User
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from workbench import policy
from workbench.history import save_with_history
from workbench.jobs import JobError
from workbench.policy import Action

from ..models import CatalogColumn, CatalogTable, ColumnProfile, SourceSystem
from . import connection

Progress = Callable[[float, str], None]
DEFAULT_SAMPLE_ROWS = 100_000
TOP_VALUES = 5
TOP_VALUES_MAX_DISTINCT = 10_000
PATTERN_SAMPLE_ROWS = 1_000
PATTERN_THRESHOLD = 0.5
VALUE_CHARS = 200
GROUPING_SETS_DIALECTS = {"postgresql", "duckdb", "mssql", "oracle", "snowflake", "bigquery"}

PROFILE_FIELDS = [
    "taken_at",
    "sample_rows",
    "null_count",
    "null_percent",
    "distinct_count",
    "min_value",
    "max_value",
    "avg_length",
    "max_length",
    "top_values",
    "patterns",
]

PATTERNS: list[tuple[str, re.Pattern]] = [
    ("email", re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")),
    (
        "date as text",
        re.compile(
            r"^(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{8})$"
        ),
    ),
    ("number as text", re.compile(r"^[+-]?(0|[1-9]\d*|[1-9]\d{0,2}(,\d{3})+)([.,]\d+)?$")),
    ("phone", re.compile(r"^(?=(?:\D*\d){9,15}\D*$)\+?[\d\s().-]{9,24}$")),
    ("code", re.compile(r"^(?=.*[A-Z])(?=.{2,})[A-Z0-9]+([_-][A-Z0-9]+)*$")),
]


# Columns whose values are secrets (Django's auth_user.password, authtoken_token.key,
# django_session.session_key, an api_token...): profiled as counts only, no value ever read.
SECRET_WORDS = {
    "password", "passwd", "pwd", "passphrase", "token", "secret", "session", "salt", "hash",
    "hashed", "credential", "credentials", "otp", "apikey",
}  # fmt: skip
SECRET_STEMS = ("password", "passwd", "token", "secret", "session", "credential")
# a "key" is secret when alone or qualified so (api_key, secret_key), not a Mart's surrogate key
# (customer_key) nor a word that merely contains it (monkey, keyword)
KEY_QUALIFIERS = {
    "api", "access", "private", "secret", "session", "signing", "encryption", "auth", "client",
    "license", "ssh", "master", "crypt", "hmac",
}  # fmt: skip
WORD_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def is_secret_column(name: str) -> bool:
    """Whether a column's name says it holds secrets: its values are never shown in a profile."""
    parts = [part.lower() for part in WORD_PARTS.findall(name or "")]
    if any(part in SECRET_WORDS or part.startswith(SECRET_STEMS) for part in parts):
        return True
    if any(part.endswith(SECRET_STEMS) for part in parts):  # authtoken, apisecret
        return True
    return any(
        part in ("key", "keys") and (len(parts) == 1 or (i and parts[i - 1] in KEY_QUALIFIERS))
        for i, part in enumerate(parts)
    ) or any(part.endswith("key") and part[:-3] in KEY_QUALIFIERS for part in parts)


def column_kind(data_type: str) -> str:
    """How a column can be profiled: text, number, temporal, discrete or other (no min/max)."""
    t = (data_type or "").upper()
    if not t:
        return "text"  # SQLite columns without a declared type hold anything; compare as text
    if any(
        word in t
        for word in (
            "JSON",
            "ARRAY",
            "[]",
            "BLOB",
            "BYTEA",
            "BINARY",
            "XML",
            "GEOM",
            "RAW",
            "IMAGE",
        )
    ):
        return "other"
    if "BOOL" in t or t == "BIT" or "UUID" in t:
        return "discrete"  # counted, but no min/max
    if any(word in t for word in ("CHAR", "TEXT", "CLOB", "STRING", "ENUM", "CITEXT")):
        return "text"
    if any(word in t for word in ("DATE", "TIME", "INTERVAL", "YEAR")):
        return "temporal"
    if any(
        word in t for word in ("INT", "NUM", "DEC", "REAL", "FLOAT", "DOUBLE", "MONEY", "SERIAL")
    ):
        return "number"
    return "other"


def catalog_profile(
    *,
    source: SourceSystem,
    acting_user: User,
    table_ids: list[int] | None = None,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    progress: Progress | None = None,
    statement_timeout: float | None = None,
) -> dict:
    """Profile the source's tables (or those in `table_ids`) and store the figures. Everything is
    read first; a failure stores nothing and leaves the previous profiles in place."""
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    report = progress or (lambda _p, _m: None)
    tables = list(source.tables.order_by("schema", "name"))
    if table_ids:
        tables = [t for t in tables if t.pk in set(table_ids)]
    columns_of: dict[int, list[CatalogColumn]] = {}
    for column in CatalogColumn.objects.filter(table__in=tables).order_by("table", "position"):
        columns_of.setdefault(column.table_id, []).append(column)
    mart = connection.mart_engine(
        source, statement_timeout=statement_timeout or connection.STATEMENT_TIMEOUT_SECONDS
    )
    figures: dict[int, tuple[int, list[dict]]] = {}
    with connection.mart_connection(mart, doing="profiling") as conn:
        for index, table in enumerate(tables):
            report(5 + 85 * index / max(1, len(tables)), f"Profiling {table.qualified_name}")
            try:
                figures[table.pk] = profile_table(
                    conn, table, columns_of.get(table.pk, []), sample_rows=sample_rows
                )
            except sa.exc.DBAPIError as exc:
                raise JobError(
                    connection.describe_db_error(
                        exc,
                        doing=f"profiling {table.qualified_name}",
                        timeout=mart.statement_timeout,
                    )
                ) from None
    report(92, "Saving the profiles")
    try:
        _store(source, tables, columns_of, figures, acting_user)
    except (IntegrityError, OperationalError):
        # A deletion that won a race the lock in _store could not prevent (a deadlock victim, a
        # foreign key to a row just deleted): say what happened when the source is gone.
        if not SourceSystem.objects.filter(pk=source.pk).exists():
            raise JobError(_deleted_message(source)) from None
        raise
    return {
        "tables": len(tables),
        "columns": sum(len(columns_of.get(t.pk, [])) for t in tables),
        "sample_rows": sample_rows,
    }


def profile_table(conn, table: CatalogTable, columns: list[CatalogColumn], *, sample_rows: int):
    """(row count, one dict of figures per column) for one table."""
    names = [c.name for c in columns]
    source_table = sa.table(table.name, *[sa.column(n) for n in names], schema=table.schema or None)
    sample = (
        sa.select(*[source_table.c[n] for n in names]).limit(sample_rows).subquery("sample")
        if names
        else sa.select(sa.literal(1).label("one"))
        .select_from(source_table)
        .limit(sample_rows)
        .subquery("sample")
    )
    total = sa.select(sa.func.count()).select_from(source_table).scalar_subquery()
    exprs = [total.label("total_rows"), sa.func.count().label("sample_rows")]
    # a secret column is counted like an opaque one: no min/max, lengths, patterns or top values
    kinds = ["secret" if is_secret_column(c.name) else column_kind(c.data_type) for c in columns]
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        col = sample.c[name]
        exprs.append(sa.func.count(col).label(f"n{i}"))
        if kind != "other":
            exprs.append(sa.func.count(sa.distinct(col)).label(f"d{i}"))
        if kind in ("text", "number", "temporal"):
            exprs += [sa.func.min(col).label(f"lo{i}"), sa.func.max(col).label(f"hi{i}")]
        if kind == "text":
            length = sa.func.length(col)
            exprs += [sa.func.avg(length).label(f"al{i}"), sa.func.max(length).label(f"ml{i}")]
    row = conn.execute(sa.select(*exprs)).one()._mapping
    sampled = int(row["sample_rows"] or 0)

    text_names = [n for n, k in zip(names, kinds, strict=True) if k == "text"]
    patterns = _patterns(conn, sample, text_names) if text_names and sampled else {}

    repeating = [
        name
        for i, name in enumerate(names)
        if kinds[i] != "secret"
        and (distinct := row.get(f"d{i}"))
        and distinct < (row[f"n{i}"] or 0)
        and distinct <= TOP_VALUES_MAX_DISTINCT
    ]
    tops = _top_values(conn, sample, repeating)

    results = []
    for i, name in enumerate(names):
        non_null = int(row[f"n{i}"] or 0)
        distinct = int(row[f"d{i}"]) if f"d{i}" in row else None
        top = tops.get(name, [])
        average = row.get(f"al{i}")
        results.append(
            {
                "sample_rows": sampled,
                "null_count": sampled - non_null,
                "null_percent": round(100.0 * (sampled - non_null) / sampled, 2)
                if sampled
                else 0.0,
                "distinct_count": distinct,
                "min_value": _text(row.get(f"lo{i}")),
                "max_value": _text(row.get(f"hi{i}")),
                "avg_length": round(float(average), 2) if average is not None else None,
                "max_length": int(row[f"ml{i}"]) if row.get(f"ml{i}") is not None else None,
                "top_values": top,
                "patterns": patterns.get(name, []),
            }
        )
    return int(row["total_rows"] or 0), results


def _top_values(conn, sample, names: list[str]) -> dict[str, list[dict]]:
    """The most frequent values of each column that repeats: one GROUPING SETS pass over the
    sample where the dialect has it, else one GROUP BY per column."""
    if not names:
        return {}
    if conn.dialect.name in GROUPING_SETS_DIALECTS and len(names) > 1:
        columns = [sample.c[n] for n in names]
        query = sa.select(
            *[c.label(f"v{i}") for i, c in enumerate(columns)],
            *[sa.func.grouping(c).label(f"g{i}") for i, c in enumerate(columns)],
            sa.func.count().label("n"),
        ).group_by(sa.func.grouping_sets(*[sa.tuple_(c) for c in columns]))
        found: dict[int, list[tuple]] = {i: [] for i in range(len(names))}
        for record in conn.execute(query):
            values = record._mapping
            for i in range(len(names)):
                if values[f"g{i}"] == 0:
                    if values[f"v{i}"] is not None:
                        found[i].append((-int(values["n"]), values[f"v{i}"]))
                    break
        tops = {}
        for i, name in enumerate(names):
            best = sorted(found[i], key=lambda item: (item[0], _sort_key(item[1])))[:TOP_VALUES]
            tops[name] = [{"value": _text(value), "count": -count} for count, value in best]
        return tops
    tops = {}
    for name in names:
        col = sample.c[name]
        tops[name] = [
            {"value": _text(value), "count": int(count)}
            for value, count in conn.execute(
                sa.select(col, sa.func.count().label("n"))
                .where(col.is_not(None))
                .group_by(col)
                .order_by(sa.desc("n"), col)
                .limit(TOP_VALUES)
            )
        ]
    return tops


def _sort_key(value):
    return (0, value) if isinstance(value, int | float | decimal.Decimal) else (1, str(value))


def _patterns(conn, sample, names: list[str]) -> dict[str, list[dict]]:
    rows = conn.execute(sa.select(*[sample.c[n] for n in names]).limit(PATTERN_SAMPLE_ROWS)).all()
    found: dict[str, list[dict]] = {}
    for i, name in enumerate(names):
        values = [str(r[i]).strip() for r in rows if r[i] is not None and str(r[i]).strip()]
        if not values:
            continue
        hits = []
        dates = {v for v in values if PATTERNS[1][1].match(v)}
        for label, pattern in PATTERNS:
            pool = values if label != "phone" else [v for v in values if v not in dates]
            share = sum(1 for v in pool if pattern.match(v)) / len(values)
            if share >= PATTERN_THRESHOLD:
                hits.append({"pattern": label, "percent": round(100 * share, 1)})
        found[name] = hits
    return found


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, bytes | memoryview):
        return ""
    return str(value)[:VALUE_CHARS]


def _deleted_message(source: SourceSystem) -> str:
    return f"The source {source.name} was deleted while it was being profiled; nothing was saved."


@transaction.atomic
def _store(source, tables, columns_of, figures, acting_user: User) -> None:
    # The source row first (source_system_delete locks it first too): a deletion either finished
    # before, and the profile is refused here, or waits until the profile is saved.
    if not SourceSystem.objects.select_for_update().filter(pk=source.pk).exists():
        raise JobError(_deleted_message(source))
    now = timezone.now()
    for table in tables:
        table.row_count, _ = figures[table.pk]
        table.profiled_at = now
    bulk_update_with_history(
        tables,
        CatalogTable,
        ["row_count", "profiled_at"],
        batch_size=1000,
        default_user=acting_user,
    )
    existing = {
        p.column_id: p
        for p in ColumnProfile.objects.filter(column__table__in=[t.pk for t in tables])
    }
    new, changed = [], []
    for table in tables:
        _, per_column = figures[table.pk]
        for column, values in zip(columns_of.get(table.pk, []), per_column, strict=True):
            profile = existing.get(column.pk)
            if profile is None:
                profile = ColumnProfile(engagement=source.engagement, column=column, taken_at=now)
                new.append(profile)
            else:
                changed.append(profile)
            profile.taken_at = now
            for name, value in values.items():
                setattr(profile, name, value)
    if new:
        bulk_create_with_history(new, ColumnProfile, batch_size=1000, default_user=acting_user)
    if changed:
        bulk_update_with_history(
            changed, ColumnProfile, PROFILE_FIELDS, batch_size=1000, default_user=acting_user
        )
    source.profiled_at = now
    save_with_history(source, acting_user=acting_user)
