"""The suggestion index of a source's catalog: normalised column names with the first columns
under each in catalog order, and their words (see the models `SuggestionName`,
`SuggestionWord`).

Rebuilt whole for a source whenever its catalog is stored with a change of columns, inside the
same transaction, so a request never reads an index older than the catalog (catalogs stored
before the index took its shape are indexed by migration catalog 0007: reads never write). It is derived
data, not history: a row per name (the words go in with COPY on PostgreSQL, one executemany
elsewhere), so a catalog of 30,000 columns repeating 30 names writes 30 names, not 30,000 rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.apps import apps as installed_apps
from django.db import connection, transaction
from django.db.models import F

from mappings.suggestions import COMMON, normalise
from workbench.collation import code_point_order

from ..diff import CatalogDiff
from ..models import SourceSystem

CHUNK = 10_000
NAMES_PER_INSERT = 200  # each name carries up to COMMON column ids


def suggestion_index_refresh(
    *, source: SourceSystem, diff: CatalogDiff, added_column_ids: list[int]
) -> None:
    """Rebuild the index of `source` when the stored catalog gained, lost or moved a column (a
    renamed table or column is a drop and an add); other changes leave the index as it was.

    A first store's added columns are the whole catalog: the index is built from them as they
    were written (`added_column_ids`, in the order of `diff.columns_to_add`), not read back."""
    added_or_dropped = (
        diff.tables_to_add or diff.tables_to_drop or diff.columns_to_add or diff.columns_to_drop
    )
    moved = any("position" in changed for changed in diff.columns_to_change.values())
    if not (added_or_dropped or moved):
        return
    if diff.first:
        written = [
            (table[0], table[1], values["position"], values["name"], pk)
            for (table, values), pk in zip(diff.columns_to_add, added_column_ids, strict=True)
        ]
        suggestion_index_rebuild(source=source, columns=sorted(written))
    else:
        suggestion_index_rebuild(source=source)


@transaction.atomic
def suggestion_index_rebuild(*, source: SourceSystem, columns: list[tuple] | None = None) -> int:
    """Replace the index of `source` by one of its stored catalog (or of `columns`, the whole
    catalog in catalog order, see `build_index`); returns its columns.

    The source row is locked first so two rebuilds of one source never interleave."""
    SourceSystem.objects.select_for_update().filter(pk=source.pk).exists()
    return build_index(source.pk, columns=columns)


def build_index(source_id: int, apps=installed_apps, columns: list[tuple] | None = None) -> int:
    """The index of one source written afresh. `apps` is the model registry: the installed one,
    or a migration's historical one (the data migration indexing catalogs stored before).

    Catalog order is (schema, table, position, column name), text by code point: `columns` as
    (schema, table, position, name, id) sorted in Python, or the stored catalog as the database
    walks it in the same order."""
    SuggestionName = apps.get_model("catalog", "SuggestionName")
    _delete(apps, source_id)
    key_of: dict[str, str] = {}  # a Mart repeats column names across its tables
    counts: dict[str, int] = {}
    first: dict[str, list[list[int]]] = {}  # the first COMMON [ordinal, column id] of a name
    for ordinal, (pk, name) in enumerate(_in_catalog_order(apps, source_id, columns)):
        key = key_of.get(name)
        if key is None:
            key = key_of[name] = " ".join(sorted(normalise(name)))
        seen = counts.get(key, 0)
        counts[key] = seen + 1
        if seen < COMMON:
            first.setdefault(key, []).append([ordinal, pk])
    names = SuggestionName.objects.bulk_create(
        [
            SuggestionName(source_id=source_id, words=key, column_count=n, first_columns=first[key])
            for key, n in counts.items()
        ],
        batch_size=NAMES_PER_INSERT,
    )
    _insert(
        apps.get_model("catalog", "SuggestionWord"),
        ["source_id", "word", "name_id"],
        ((source_id, word, name.pk) for name in names for word in name.words.split()),
    )
    return sum(counts.values())


def _in_catalog_order(apps, source_id: int, columns: list[tuple] | None) -> Iterator[tuple]:
    """(id, name) of the catalog's columns in catalog order."""
    if columns is not None:
        return ((pk, name) for _schema, _table, _position, name, pk in columns)
    stored = (
        apps.get_model("catalog", "CatalogColumn")
        .objects.filter(table__source_id=source_id)
        .order_by(
            code_point_order(F("table__schema")),
            code_point_order(F("table__name")),
            "position",
            code_point_order(F("name")),
        )
        .values_list("pk", "name")
    )
    return stored.iterator(chunk_size=CHUNK)


def _delete(apps, source_id: int) -> None:
    quote = connection.ops.quote_name
    names = quote(apps.get_model("catalog", "SuggestionName")._meta.db_table)
    words = quote(apps.get_model("catalog", "SuggestionWord")._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {words} WHERE source_id = %s", [source_id])
        cursor.execute(f"DELETE FROM {names} WHERE source_id = %s", [source_id])


def _insert(model, columns: list[str], rows) -> None:
    """Rows of a model without history or defaults to fill: COPY on PostgreSQL."""
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
