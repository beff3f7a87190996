"""Writes of the Mart catalog: source systems, introspection, catalog snapshots and their diff, the
BA's source understanding and the draft list of impacted interface entities.

Every function is keyword-only, checks the policy, validates and saves with history.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
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
from workbench.memory import gc_paused
from workbench.models import Engagement, Job
from workbench.policy import Action

from ..choices import CatalogOrigin
from ..dialects import check_dialect, dialect_for_backend
from ..diff import (
    COLUMN_STRUCTURE,
    TABLE_STRUCTURE,
    CatalogDiff,
    StoredCatalog,
    StoredColumn,
    StoredForeignKey,
    StoredTable,
    TableKey,
    catalog_diff,
    unique_snaps,
)
from ..models import CatalogColumn, CatalogForeignKey, CatalogTable, ImpactedEntity, SourceSystem
from . import connection
from .introspection import (
    INFORMATION_SCHEMA_DIALECTS,
    TableSnap,
    read_catalog,
    read_information_schema,
)
from .suggestion_index import suggestion_index_refresh
from .url_policy import check_mart_url

Progress = Callable[[float, str], None]
BATCH = 1000
UNDERSTANDING_FIELDS = {"subject_area", "grain", "derivation_notes", "gap_notes", "notes"}


# --- source systems -------------------------------------------------------------------------


@transaction.atomic
def source_system_create(
    *,
    engagement: Engagement,
    name: str,
    url: str,
    acting_user: User,
    password_env: str = "",
    default_schema: str = "",
    schemas: list[str] | str | None = None,
    dialect: str = "",
) -> SourceSystem:
    """Register a Mart connection; the URL's password is encrypted, never stored in the URL.
    `schemas` (a list, or names separated by commas) are the schemas it covers; `default_schema`
    is the older one-schema spelling of the same. The rules' SQL dialect is the URL's backend's
    unless `dialect` names another."""
    policy.check(acting_user, engagement, Action.MANAGE_CATALOG)
    covered = clean_schemas(default_schema if schemas is None else schemas)
    split = connection.split_url(url)
    check_mart_url(split.url)
    dialect = check_dialect(dialect) or dialect_for_backend(split.dialect)
    password_env = _check_env_name(password_env, has_password=bool(split.password))
    source = SourceSystem(
        engagement=engagement,
        name=(name or "").strip(),
        url=split.url,
        dialect=dialect,
        password_encrypted=connection.encrypt_secret(split.password),
        password_env=password_env,
        default_schema=covered[0] if covered else "",
        schemas=covered,
        created_by=acting_user,
    )
    save_with_history(source, acting_user=acting_user)
    return source


@transaction.atomic
def source_system_create_from_file(
    *, engagement: Engagement, name: str, acting_user: User, dialect: str = ""
) -> SourceSystem:
    """A source system whose catalog comes from a DDL or CSV file: it has no connection; its
    rules are written in the dialect chosen at import."""
    policy.check(acting_user, engagement, Action.MANAGE_CATALOG)
    source = SourceSystem(
        engagement=engagement,
        name=name.strip(),
        dialect=check_dialect(dialect),
        created_by=acting_user,
    )
    save_with_history(source, acting_user=acting_user)
    return source


@transaction.atomic
def source_system_update(*, source: SourceSystem, data: dict, acting_user: User) -> SourceSystem:
    """Change name, URL, password variable, schema or the rules' SQL dialect. A URL without a
    password keeps the stored one (so the password never has to be shown again to be kept); a
    URL of another database brings its backend's dialect unless `dialect` is given too."""
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    data = dict(data)
    if "url" in data:
        split = connection.split_url(data.pop("url"))
        check_mart_url(split.url)
        before = connection.split_url(source.url).dialect if source.url else ""
        source.url = split.url
        if split.dialect != before or not source.dialect:  # a BA's override survives re-entry
            source.dialect = dialect_for_backend(split.dialect)
        if split.password:
            source.password_encrypted = connection.encrypt_secret(split.password)
            source.password_env = ""
    if "password_env" in data:
        data["password_env"] = _check_env_name(data["password_env"], has_password=False)
        if data["password_env"]:
            source.password_encrypted = ""
    if "schemas" in data or "default_schema" in data:
        covered = clean_schemas(data.pop("schemas", None) or data.pop("default_schema", ""))
        data.pop("default_schema", None)
        data["schemas"], data["default_schema"] = covered, covered[0] if covered else ""
    if (data.get("dialect") or "").strip():
        data["dialect"] = check_dialect(data["dialect"])
    else:
        data.pop("dialect", None)  # empty: keep the URL's
    apply_changes(
        source, data, allowed={"name", "password_env", "default_schema", "schemas", "dialect"}
    )
    save_with_history(source, acting_user=acting_user)
    return source


@transaction.atomic
def source_system_delete(*, source: SourceSystem, acting_user: User) -> None:
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    # The source row is locked before its catalog is deleted, in the order a profile's save takes
    # its locks too (see profiling._store), so the two wait for each other instead of deadlocking.
    if not SourceSystem.objects.select_for_update().filter(pk=source.pk).exists():
        return  # deleted meanwhile by someone else: nothing left to do
    delete_with_history(source, acting_user=acting_user)


def source_system_test(*, source: SourceSystem, acting_user: User) -> str:
    """Open a connection now; returns what answered, or raises a ValidationError saying why not."""
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    try:
        return connection.test_connection(source)
    except connection.JobError as exc:
        raise ValidationError({"url": str(exc)}) from None


def clean_schemas(value: list[str] | str | None) -> list[str]:
    """Schema names from a list or a comma-separated text: trimmed, each once, in order."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValidationError({"schemas": "A schema is named by a text."})
        name = item.strip()
        if len(name) > 200:
            raise ValidationError({"schemas": f"The schema name '{name[:40]}…' is too long."})
        if name and name not in names:
            names.append(name)
    return names


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


def introspection_start(
    *,
    source: SourceSystem,
    acting_user: User,
    schema: str | None = None,
    schemas: list[str] | None = None,
) -> Job:
    """Queue an introspection of `schemas` (or the one `schema`; all the source covers when
    neither is given)."""
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    wanted = _wanted_schemas(source, schema=schema, schemas=schemas)
    return job_enqueue(
        kind="catalog.introspect",
        engagement=source.engagement,
        acting_user=acting_user,
        params={"source_id": source.pk, "schemas": wanted},
    )


def _wanted_schemas(
    source: SourceSystem, *, schema: str | None, schemas: list[str] | str | None
) -> list[str]:
    if schemas:
        return clean_schemas(schemas) or [""]
    if schema is not None:
        return clean_schemas([schema]) or [""]
    return source.covered_schemas


def profiling_start(
    *,
    source: SourceSystem,
    acting_user: User,
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
    acting_user: User,
    schema: str | None = None,
    schemas: list[str] | None = None,
    progress: Progress | None = None,
) -> dict:
    """Read the structure of `schemas` (or the one `schema`; every schema the source covers when
    neither is given) read-only and apply it to the catalog; the tables of the source's other
    schemas are left as they are. A failure while reading raises a JobError before anything is
    written: the previous catalog stays as it was."""
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    report = progress or (lambda _p, _m: None)
    wanted = _wanted_schemas(source, schema=schema, schemas=schemas)
    tables = catalog_read(source=source, schemas=wanted, progress=report)
    report(70, f"Saving {len(tables)} tables")
    with gc_paused():
        return catalog_apply(
            source=source,
            tables=tables,
            acting_user=acting_user,
            origin=CatalogOrigin.INTROSPECTION,
            schemas=wanted,
        )


def catalog_read(
    *,
    source: SourceSystem,
    schema: str = "",
    schemas: list[str] | None = None,
    progress: Progress | None = None,
) -> list[TableSnap]:
    """The structure of `schemas` (or the one `schema`) as one snapshot, read in one read-only
    transaction; writes nothing."""
    report = progress or (lambda _p, _m: None)
    wanted = schemas or [schema]
    mart = connection.mart_engine(source)
    report(2, "Connecting to the Mart")
    tables: list[TableSnap] = []
    with connection.mart_connection(mart, doing="reading the catalog") as conn:
        for index, name in enumerate(wanted):
            if len(wanted) > 1:
                report(2 + 60 * index / len(wanted), f"Reading the schema {name}")
            tables += _read_schema(mart, conn, name, report if len(wanted) == 1 else None)
    return tables


def _read_schema(mart, conn, schema: str, report: Progress | None) -> list[TableSnap]:
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
    acting_user: User,
    origin: str,
    schema: str | None = None,
    schemas: list[str] | None = None,
) -> dict:
    """Make the catalog of `source` match `tables`: add, update, drop — keeping every note the BA
    wrote on tables and columns that still exist. Returns counts and the diff.

    The stored catalog is read as plain values (no model instances for the tens of thousands of
    columns) and compared in memory (`catalog.diff`): what did not change is not written at all,
    new rows go in with `fast_bulk_insert_with_history` (COPY on PostgreSQL, history included),
    and the few changed or dropped rows go through simple-history as usual.

    With `schemas` (or the one `schema`), `tables` are those schemas' tables: the source's tables
    in other schemas are kept, and the source covers the union of both. Without, `tables` is the
    whole catalog (a file import)."""
    policy.check(acting_user, source.engagement, Action.MANAGE_CATALOG)
    scope = schemas if schemas is not None else None if schema is None else [schema]
    snaps = unique_snaps(tables)
    stored = _stored_catalog(source)
    diff = catalog_diff(snaps, stored, schemas=None if scope is None else set(scope))
    table_ids = _write_tables(source, diff, stored, acting_user)
    added_column_ids = _write_columns(source, diff, table_ids, acting_user)
    _write_foreign_keys(source, diff, table_ids, acting_user)
    suggestion_index_refresh(source=source, diff=diff, added_column_ids=added_column_ids)

    summary = diff.summary()
    source.introspected_at = timezone.now()
    source.origin = origin
    source.last_diff = summary
    if scope is not None:
        _cover(source, scope, had_tables=bool(stored.tables))
    save_with_history(source, acting_user=acting_user)
    return {
        "tables": len(snaps),
        "columns": sum(len(s.columns) for s in snaps.values()),
        "foreign_keys": sum(len(s.foreign_keys) for s in snaps.values()),
        "diff": summary,
    }


def _cover(source: SourceSystem, schemas: list[str], *, had_tables: bool) -> None:
    """The source now covers `schemas` as well as those it already had cataloged."""
    covered = source.covered_schemas if had_tables else []
    covered += [name for name in schemas if name not in covered]
    source.schemas = [] if covered == [""] else covered
    source.default_schema = covered[0] if covered else ""


def _stored_catalog(source: SourceSystem) -> StoredCatalog:
    """The catalog of `source` as plain values: three queries, whatever its size."""
    stored = StoredCatalog()
    keys: dict[int, TableKey] = {}
    for pk, schema, name, *structure in source.tables.values_list(
        "pk", "schema", "name", *TABLE_STRUCTURE
    ):
        keys[pk] = (schema, name)
        stored.tables[(schema, name)] = StoredTable(
            pk, dict(zip(TABLE_STRUCTURE, structure, strict=True))
        )
    if not keys:
        return stored
    for pk, table_id, name, *structure in (
        CatalogColumn.objects.filter(table__source=source)
        .order_by()
        .values_list("pk", "table_id", "name", *COLUMN_STRUCTURE)
    ):
        stored.columns[(keys[table_id], name)] = StoredColumn(pk, tuple(structure))
    for pk, table_id, name, columns, ref_schema, ref_name, ref_columns, ref_id in (
        CatalogForeignKey.objects.filter(table__source=source)
        .order_by()
        .values_list(
            "pk",
            "table_id",
            "name",
            "columns",
            "referred_schema",
            "referred_table_name",
            "referred_columns",
            "referred_table_id",
        )
    ):
        stored.foreign_keys.append(
            StoredForeignKey(
                pk=pk,
                table=keys[table_id],
                name=name,
                columns=tuple(columns),
                referred=(ref_schema or "", ref_name),
                referred_columns=tuple(ref_columns),
                # a link outside this source (never made by us) counts as a link to elsewhere
                linked_to=None if ref_id is None else keys.get(ref_id, ("", f"#{ref_id}")),
            )
        )
    return stored


def _write_tables(
    source: SourceSystem, diff: CatalogDiff, stored: StoredCatalog, acting_user: User
) -> dict[TableKey, int]:
    """Drop, add and update tables; returns the id of every table the snapshot keeps or adds."""
    for table in CatalogTable.objects.filter(pk__in=diff.tables_to_drop).order_by():
        delete_with_history(table, acting_user=acting_user)
    new_ids = fast_bulk_insert_with_history(
        CatalogTable,
        [
            {
                "engagement_id": source.engagement_id,
                "source_id": source.pk,
                "schema": key[0],
                "name": key[1],
                **values,
            }
            for key, values in diff.tables_to_add
        ],
        acting_user=acting_user,
    )
    _update_with_history(CatalogTable, diff.tables_to_change, TABLE_STRUCTURE, acting_user)
    dropped = set(diff.tables_to_drop)
    return {
        **{key: row.pk for key, row in stored.tables.items() if row.pk not in dropped},
        **dict(zip([key for key, _ in diff.tables_to_add], new_ids, strict=True)),
    }


def _write_columns(
    source: SourceSystem, diff: CatalogDiff, table_ids: dict[TableKey, int], acting_user: User
) -> list[int]:
    """Drop, add and update columns; returns the ids of the added ones, in their order."""
    for column in CatalogColumn.objects.filter(pk__in=diff.columns_to_drop).order_by():
        delete_with_history(column, acting_user=acting_user)
    engagement_id = source.engagement_id
    rows = []
    for key, values in diff.columns_to_add:
        # the diff's own dict of the new column becomes its row (no copy per column)
        values["engagement_id"] = engagement_id
        values["table_id"] = table_ids[key]
        rows.append(values)
    added = fast_bulk_insert_with_history(CatalogColumn, rows, acting_user=acting_user)
    _update_with_history(CatalogColumn, diff.columns_to_change, COLUMN_STRUCTURE, acting_user)
    return added


def _write_foreign_keys(
    source: SourceSystem, diff: CatalogDiff, table_ids: dict[TableKey, int], acting_user: User
) -> None:
    for fk in CatalogForeignKey.objects.filter(pk__in=diff.foreign_keys_to_drop).order_by():
        delete_with_history(fk, acting_user=acting_user)
    fast_bulk_insert_with_history(
        CatalogForeignKey,
        [
            {
                "engagement_id": source.engagement_id,
                "table_id": table_ids[key],
                "name": fk.name[:200],
                "columns": fk.columns,
                "referred_schema": fk.referred_schema,
                "referred_table_name": fk.referred_table,
                "referred_table_id": table_ids[target] if target else None,
                "referred_columns": fk.referred_columns,
            }
            for key, fk, target in diff.foreign_keys_to_add
        ],
        acting_user=acting_user,
    )
    relinked = {
        pk: {"referred_table_id": table_ids[target] if target else None}
        for pk, target in diff.foreign_keys_to_relink.items()
    }
    _update_with_history(CatalogForeignKey, relinked, ["referred_table"], acting_user)


def _update_with_history(
    model, changes: dict[int, dict], fields: list[str], acting_user: User
) -> None:
    """Set `changes` (pk → field values) on the rows of `model`, one history row each."""
    if not changes:
        return
    rows = list(model.objects.filter(pk__in=changes).order_by())
    for row in rows:
        for name, value in changes[row.pk].items():
            setattr(row, name, value)
    bulk_update_with_history(rows, model, fields, batch_size=BATCH, default_user=acting_user)


# --- source understanding -------------------------------------------------------------------


@transaction.atomic
def table_understanding_update(
    *, table: CatalogTable, data: dict, acting_user: User
) -> CatalogTable:
    """Subject area, grain, existing derivations, gaps and notes of one table."""
    policy.check(acting_user, table.engagement, Action.WRITE_NOTES)
    data = {k: (v or "").strip() if isinstance(v, str) or v is None else v for k, v in data.items()}
    if "subject_area" in data:
        data["subject_area"] = data["subject_area"].lower()
    if apply_changes(table, data, allowed=UNDERSTANDING_FIELDS):
        save_with_history(table, acting_user=acting_user)
    return table


@transaction.atomic
def column_notes_update(*, column: CatalogColumn, notes: str, acting_user: User) -> CatalogColumn:
    policy.check(acting_user, column.engagement, Action.WRITE_NOTES)
    notes = (notes or "").strip()
    if column.notes != notes:
        column.notes = notes
        save_with_history(column, acting_user=acting_user)
    return column


@transaction.atomic
def impacted_entity_add(
    *, table: CatalogTable, entity_name: str, acting_user: User, note: str = ""
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
def impacted_entity_remove(*, link: ImpactedEntity, acting_user: User) -> None:
    policy.check(acting_user, link.engagement, Action.WRITE_NOTES)
    delete_with_history(link, acting_user=acting_user)
