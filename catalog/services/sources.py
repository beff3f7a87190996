"""Writes of the Mart catalog: source systems, introspection, catalog snapshots and their diff, the
BA's source understanding and the draft list of impacted interface entities.

Every function is keyword-only, checks the policy, validates and saves with history.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from contracts.selectors import published_entity_names
from workbench import policy
from workbench.history import (
    apply_changes,
    delete_with_history,
    fast_bulk_insert_with_history,
    save_with_history,
)
from workbench.jobs import job_enqueue
from workbench.models import Engagement, Job
from workbench.policy import Action

from ..choices import CatalogOrigin
from ..models import CatalogColumn, CatalogForeignKey, CatalogTable, ImpactedEntity, SourceSystem
from . import connection
from .introspection import (
    INFORMATION_SCHEMA_DIALECTS,
    TableSnap,
    gc_paused,
    read_catalog,
    read_information_schema,
)

Progress = Callable[[float, str], None]
BATCH = 1000
DIFF_LIST_LIMIT = 200

TABLE_STRUCTURE = ["kind", "comment", "primary_key", "unique_constraints", "indexes"]
COLUMN_STRUCTURE = [
    "position",
    "data_type",
    "length",
    "precision",
    "scale",
    "nullable",
    "default",
    "comment",
    "is_primary_key",
]
TYPE_FIELDS = ("data_type", "length", "precision", "scale")
UNDERSTANDING_FIELDS = {"subject_area", "grain", "derivation_notes", "gap_notes", "notes"}


# --- source systems -------------------------------------------------------------------------


@transaction.atomic
def source_system_create(
    *,
    engagement: Engagement,
    name: str,
    url: str,
    acting_user,
    password_env: str = "",
    default_schema: str = "",
) -> SourceSystem:
    """Register a Mart connection; the URL's password is encrypted, never stored in the URL."""
    policy.check(acting_user, engagement, Action.MANAGE_CATALOG)
    split = connection.split_url(url)
    connection.check_dialect(url)
    password_env = _check_env_name(password_env, has_password=bool(split.password))
    source = SourceSystem(
        engagement=engagement,
        name=(name or "").strip(),
        url=split.url,
        dialect=split.dialect,
        password_encrypted=connection.encrypt_secret(split.password),
        password_env=password_env,
        default_schema=(default_schema or "").strip(),
        created_by=acting_user,
    )
    save_with_history(source, acting_user=acting_user)
    return source


@transaction.atomic
def source_system_create_from_file(
    *, engagement: Engagement, name: str, acting_user
) -> SourceSystem:
    """A source system whose catalog comes from a DDL or CSV file: it has no connection."""
    policy.check(acting_user, engagement, Action.MANAGE_CATALOG)
    source = SourceSystem(engagement=engagement, name=name.strip(), created_by=acting_user)
    save_with_history(source, acting_user=acting_user)
    return source


@transaction.atomic
def source_system_update(*, source: SourceSystem, data: dict, acting_user) -> SourceSystem:
    """Change name, URL, password variable or schema. A URL without a password keeps the stored
    one (so the password never has to be shown again to be kept)."""
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    data = dict(data)
    if "url" in data:
        split = connection.split_url(data.pop("url"))
        connection.check_dialect(split.url)
        source.url, source.dialect = split.url, split.dialect
        if split.password:
            source.password_encrypted = connection.encrypt_secret(split.password)
            source.password_env = ""
    if "password_env" in data:
        data["password_env"] = _check_env_name(data["password_env"], has_password=False)
        if data["password_env"]:
            source.password_encrypted = ""
    apply_changes(source, data, allowed={"name", "password_env", "default_schema"})
    save_with_history(source, acting_user=acting_user)
    return source


@transaction.atomic
def source_system_delete(*, source: SourceSystem, acting_user) -> None:
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    delete_with_history(source, acting_user=acting_user)


def source_system_test(*, source: SourceSystem, acting_user) -> str:
    """Open a connection now; returns what answered, or raises a ValidationError saying why not."""
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    try:
        return connection.test_connection(source)
    except connection.JobError as exc:
        raise ValidationError({"url": str(exc)}) from None


def _check_env_name(name: str, *, has_password: bool) -> str:
    name = (name or "").strip()
    if name and has_password:
        raise ValidationError(
            {"password_env": "Give the password either in the URL or as a variable, not both."}
        )
    if name and not name.replace("_", "").isalnum():
        raise ValidationError(
            {"password_env": "An environment variable name has letters, digits and _ only."}
        )
    return name


# --- jobs -----------------------------------------------------------------------------------


def introspection_start(*, source: SourceSystem, acting_user, schema: str | None = None) -> Job:
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    return job_enqueue(
        kind="catalog.introspect",
        engagement=source.engagement,
        acting_user=acting_user,
        params={
            "source_id": source.pk,
            "schema": source.default_schema if schema is None else schema,
        },
    )


def profiling_start(
    *,
    source: SourceSystem,
    acting_user,
    table_ids: list[int] | None = None,
    sample_rows: int | None = None,
) -> Job:
    from .profiling import DEFAULT_SAMPLE_ROWS

    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    if not source.url:
        raise ValidationError(
            {
                "source": "This catalog was imported from a file; there is no "
                "connection to profile it with."
            }
        )
    if not source.tables.exists():
        raise ValidationError({"source": "Introspect the Mart before profiling it."})
    return job_enqueue(
        kind="catalog.profile",
        engagement=source.engagement,
        acting_user=acting_user,
        params={
            "source_id": source.pk,
            "table_ids": table_ids or [],
            "sample_rows": sample_rows or DEFAULT_SAMPLE_ROWS,
        },
    )


# --- introspection --------------------------------------------------------------------------


def catalog_introspect(
    *,
    source: SourceSystem,
    acting_user,
    schema: str | None = None,
    progress: Progress | None = None,
) -> dict:
    """Read the Mart's structure (read-only) and apply it to the catalog. A failure while reading
    raises a JobError before anything is written: the previous catalog stays as it was."""
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    report = progress or (lambda _p, _m: None)
    schema = source.default_schema if schema is None else schema
    tables = catalog_read(source=source, schema=schema, progress=report)
    report(70, f"Saving {len(tables)} tables")
    with gc_paused():
        return catalog_apply(
            source=source,
            tables=tables,
            acting_user=acting_user,
            origin=CatalogOrigin.INTROSPECTION,
            schema=schema,
        )


def catalog_read(
    *, source: SourceSystem, schema: str, progress: Progress | None = None
) -> list[TableSnap]:
    """The Mart's structure as a snapshot, read in a read-only transaction; writes nothing."""
    report = progress or (lambda _p, _m: None)
    mart = connection.mart_engine(source)
    report(2, "Connecting to the Mart")
    with connection.mart_connection(mart, doing="reading the catalog") as conn:
        if conn.dialect.name in INFORMATION_SCHEMA_DIALECTS:
            return read_information_schema(conn, schema=schema)
        if conn.dialect.name != "postgresql":
            return read_catalog(conn, schema=schema, progress=report)
        # a server: a second read-only connection reads the secondary facts alongside
        with connection.mart_connection(mart, doing="reading the catalog") as side:
            return read_catalog(conn, schema=schema, progress=report, side_conn=side)


@transaction.atomic
def catalog_apply(
    *,
    source: SourceSystem,
    tables: list[TableSnap],
    acting_user,
    origin: str,
    schema: str | None = None,
) -> dict:
    """Make the catalog of `source` match `tables`: add, update, drop — keeping every note the BA
    wrote on tables and columns that still exist. Returns counts and the diff.

    The snapshot is compared with the stored catalog in memory (plain tuples, no model instances
    for the tens of thousands of columns): what did not change is not written at all, new rows go
    in with `fast_bulk_insert_with_history` (COPY on PostgreSQL, history included), and the few
    changed or dropped rows go through simple-history as usual."""
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    engagement_id = source.engagement_id
    snaps = _unique_snaps(tables)
    existing = {(t.schema, t.name): t for t in source.tables.all()}
    first = not existing
    diff: dict = {
        "first": first,
        "tables_added": [],
        "tables_dropped": [],
        "columns_added": [],
        "columns_dropped": [],
        "types_changed": [],
        "foreign_keys_added": [],
        "foreign_keys_dropped": [],
    }

    # tables
    new_keys, new_tables, changed_tables = [], [], []
    for key, snap in snaps.items():
        row = existing.get(key)
        values = {
            "kind": str(snap.kind),
            "comment": snap.comment,
            "primary_key": snap.primary_key,
            "unique_constraints": snap.unique_constraints,
            "indexes": snap.indexes,
        }
        if row is None:
            new_keys.append(key)
            new_tables.append(
                {
                    "engagement_id": engagement_id,
                    "source_id": source.pk,
                    "schema": key[0],
                    "name": key[1],
                    **values,
                }
            )
            diff["tables_added"].append(_qualified(key))
        elif any(getattr(row, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(row, f, v)
            changed_tables.append(row)
    dropped_tables = [row for key, row in existing.items() if key not in snaps]
    for row in dropped_tables:
        diff["tables_dropped"].append(row.qualified_name)
        delete_with_history(row, acting_user=acting_user)
    new_ids = fast_bulk_insert_with_history(CatalogTable, new_tables, acting_user=acting_user)
    if changed_tables:
        bulk_update_with_history(
            changed_tables,
            CatalogTable,
            TABLE_STRUCTURE,
            batch_size=BATCH,
            default_user=acting_user,
        )
    by_key = {
        **{k: t.pk for k, t in existing.items() if k in snaps},
        **dict(zip(new_keys, new_ids, strict=True)),
    }

    # columns: (table_id, name) -> (pk, *COLUMN_STRUCTURE values)
    existing_columns = {}
    if not first:
        existing_columns = {
            (row[1], row[2]): (row[0], *row[3:])
            for row in CatalogColumn.objects.filter(table__source=source)
            .order_by()
            .values_list("pk", "table_id", "name", *COLUMN_STRUCTURE)
        }
    new_columns, changed_columns, seen = [], {}, set()
    for key, snap in snaps.items():
        table_id = by_key[key]
        pk = set(snap.primary_key)
        table_existed = key in existing
        for col in snap.columns:
            values = (
                col.position,
                col.data_type,
                col.length,
                col.precision,
                col.scale,
                col.nullable,
                col.default,
                col.comment,
                col.name in pk,
            )
            row = existing_columns.get((table_id, col.name))
            if row is None:
                new_columns.append(
                    {
                        "engagement_id": engagement_id,
                        "table_id": table_id,
                        "name": col.name,
                        "position": values[0],
                        "data_type": values[1],
                        "length": values[2],
                        "precision": values[3],
                        "scale": values[4],
                        "nullable": values[5],
                        "default": values[6],
                        "comment": values[7],
                        "is_primary_key": values[8],
                    }
                )
                if table_existed:
                    diff["columns_added"].append(f"{_qualified(key)}.{col.name}")
                continue
            seen.add((table_id, col.name))
            if row[1:] != values:
                if row[2:6] != values[1:5]:
                    diff["types_changed"].append(
                        {
                            "column": f"{_qualified(key)}.{col.name}",
                            "from": _type_text(*row[2:6]),
                            "to": _type_text(col.data_type, col.length, col.precision, col.scale),
                        }
                    )
                changed_columns[row[0]] = dict(zip(COLUMN_STRUCTURE, values, strict=True))
    dropped_table_ids = {t.pk for t in dropped_tables}
    gone = [
        row[0]
        for (table_id, name), row in existing_columns.items()
        if (table_id, name) not in seen and table_id not in dropped_table_ids
    ]
    if gone:
        for column in CatalogColumn.objects.filter(pk__in=gone).select_related("table"):
            diff["columns_dropped"].append(f"{column.table.qualified_name}.{column.name}")
            delete_with_history(column, acting_user=acting_user)
    fast_bulk_insert_with_history(CatalogColumn, new_columns, acting_user=acting_user)
    if changed_columns:
        rows = list(CatalogColumn.objects.filter(pk__in=changed_columns))
        for column in rows:
            for f, v in changed_columns[column.pk].items():
                setattr(column, f, v)
        bulk_update_with_history(
            rows,
            CatalogColumn,
            COLUMN_STRUCTURE,
            batch_size=BATCH,
            default_user=acting_user,
        )

    # foreign keys
    _apply_foreign_keys(source, snaps, by_key, acting_user, diff, first)

    fk_count = sum(len(s.foreign_keys) for s in snaps.values())
    column_count = sum(len(s.columns) for s in snaps.values())
    summary = _summarize(diff)
    source.introspected_at = timezone.now()
    source.origin = origin
    source.last_diff = summary
    if schema is not None:
        source.default_schema = schema
    save_with_history(source, acting_user=acting_user)
    return {
        "tables": len(snaps),
        "columns": column_count,
        "foreign_keys": fk_count,
        "diff": summary,
    }


def _apply_foreign_keys(source, snaps, by_key, acting_user, diff, first) -> None:
    """`by_key` maps each (schema, name) of the snapshot to its catalog table's id."""
    existing = {}  # fk key -> (pk, referred_table_id)
    if not first:
        for pk, table_id, columns, ref_schema, ref_name, ref_columns, ref_id in (
            CatalogForeignKey.objects.filter(table__source=source)
            .order_by()
            .values_list(
                "pk",
                "table_id",
                "columns",
                "referred_schema",
                "referred_table_name",
                "referred_columns",
                "referred_table_id",
            )
        ):
            existing[_fk_key(table_id, columns, ref_schema, ref_name, ref_columns)] = (pk, ref_id)
    wanted, new_fks, relinked = set(), [], {}
    for key, snap in snaps.items():
        table_id = by_key[key]
        for fk in snap.foreign_keys:
            fk_key = _fk_key(
                table_id, fk.columns, fk.referred_schema, fk.referred_table, fk.referred_columns
            )
            wanted.add(fk_key)
            target = by_key.get((fk.referred_schema, fk.referred_table))
            row = existing.get(fk_key)
            if row is None:
                new_fks.append(
                    {
                        "engagement_id": source.engagement_id,
                        "table_id": table_id,
                        "name": fk.name[:200],
                        "columns": fk.columns,
                        "referred_schema": fk.referred_schema,
                        "referred_table_name": fk.referred_table,
                        "referred_table_id": target,
                        "referred_columns": fk.referred_columns,
                    }
                )
                if not first:
                    diff["foreign_keys_added"].append(_fk_text(_qualified(key), fk))
            elif row[1] != target:
                relinked[row[0]] = target
    kept_tables = set(by_key.values())
    gone = [row[0] for k, row in existing.items() if k not in wanted and k[0] in kept_tables]
    if gone:
        for fk in CatalogForeignKey.objects.filter(pk__in=gone).select_related("table"):
            diff["foreign_keys_dropped"].append(str(fk))
            delete_with_history(fk, acting_user=acting_user)
    fast_bulk_insert_with_history(CatalogForeignKey, new_fks, acting_user=acting_user)
    if relinked:
        rows = list(CatalogForeignKey.objects.filter(pk__in=relinked))
        for fk in rows:
            fk.referred_table_id = relinked[fk.pk]
        bulk_update_with_history(
            rows,
            CatalogForeignKey,
            ["referred_table"],
            batch_size=BATCH,
            default_user=acting_user,
        )


def _fk_key(table_id, columns, referred_schema, referred_table, referred_columns) -> tuple:
    return (
        table_id,
        tuple(columns),
        referred_schema or "",
        referred_table,
        tuple(referred_columns),
    )


def _fk_text(table_name: str, fk) -> str:
    target = (
        f"{fk.referred_schema}.{fk.referred_table}" if fk.referred_schema else fk.referred_table
    )
    return f"{table_name}({', '.join(fk.columns)}) → {target}({', '.join(fk.referred_columns)})"


def _unique_snaps(tables: list[TableSnap]) -> dict[tuple[str, str], TableSnap]:
    snaps: dict[tuple[str, str], TableSnap] = {}
    for snap in tables:
        if snap.key in snaps:
            raise ValidationError(f"The table {_qualified(snap.key)} is defined twice.")
        names = [c.name for c in snap.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValidationError(
                f"The table {_qualified(snap.key)} has the column {duplicates[0]} twice."
            )
        snaps[snap.key] = snap
    return snaps


def _qualified(key: tuple[str, str]) -> str:
    return f"{key[0]}.{key[1]}" if key[0] else key[1]


def _type_text(data_type, length, precision, scale) -> str:
    if length and f"({length}" not in data_type:
        return f"{data_type}({length})"
    if precision is not None and "(" not in data_type:
        return f"{data_type}({precision}{f', {scale}' if scale else ''})"
    return data_type


def _summarize(diff: dict) -> dict:
    summary = {"first": diff["first"], "counts": {}}
    for name, items in diff.items():
        if name == "first":
            continue
        summary["counts"][name] = len(items)
        summary[name] = items[:DIFF_LIST_LIMIT]
    summary["changed"] = any(summary["counts"].values()) and not diff["first"]
    return summary


# --- source understanding -------------------------------------------------------------------


@transaction.atomic
def table_understanding_update(*, table: CatalogTable, data: dict, acting_user) -> CatalogTable:
    """Subject area, grain, existing derivations, gaps and notes of one table."""
    policy.check(acting_user, table.engagement, Action.WRITE_NOTES)
    data = {k: (v or "").strip() if isinstance(v, str) or v is None else v for k, v in data.items()}
    if "subject_area" in data:
        data["subject_area"] = data["subject_area"].lower()
    if apply_changes(table, data, allowed=UNDERSTANDING_FIELDS):
        save_with_history(table, acting_user=acting_user)
    return table


@transaction.atomic
def column_notes_update(*, column: CatalogColumn, notes: str, acting_user) -> CatalogColumn:
    policy.check(acting_user, column.engagement, Action.WRITE_NOTES)
    notes = (notes or "").strip()
    if column.notes != notes:
        column.notes = notes
        save_with_history(column, acting_user=acting_user)
    return column


@transaction.atomic
def impacted_entity_add(
    *, table: CatalogTable, entity_name: str, acting_user, note: str = ""
) -> ImpactedEntity:
    """Draft link: `table` will feed the interface entity named `entity_name`. When a published
    Interface Layer exists, the name must be one of its entities."""
    policy.check(acting_user, table.engagement, Action.WRITE_NOTES)
    entity_name = (entity_name or "").strip()
    if not entity_name:
        raise ValidationError({"entity_name": "Name the interface entity this table feeds."})
    published = published_entity_names(engagement=table.engagement)
    if published and entity_name not in published:
        raise ValidationError(
            {
                "entity_name": f"'{entity_name}' is not an entity of the published Interface "
                f"Layer (it has: {', '.join(sorted(published)[:20])})."
            }
        )
    link = ImpactedEntity(
        engagement=table.engagement, table=table, entity_name=entity_name, note=(note or "").strip()
    )
    save_with_history(link, acting_user=acting_user)
    return link


@transaction.atomic
def impacted_entity_remove(*, link: ImpactedEntity, acting_user) -> None:
    policy.check(acting_user, link.engagement, Action.WRITE_NOTES)
    delete_with_history(link, acting_user=acting_user)
