"""What changed between a Mart's structure as just read and the catalog as stored — pure, no
database. `catalog_apply` reads the stored catalog as plain values (`StoredCatalog`), asks
`catalog_diff` what to add, change, relink and drop, and writes only that; the BA's notes live on
rows that are kept, so they survive a re-introspection.

The report (`CatalogDiff.report`) is what the BA reads: names of tables, columns and foreign keys
added or dropped and types changed, in catalog order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from .services.introspection import ForeignKeySnap, TableSnap

TableKey = tuple[str, str]  # (schema, name); schema is "" where the Mart has none
ColumnKey = tuple[TableKey, str]
ForeignKeyKey = tuple[TableKey, tuple[str, ...], str, str, tuple[str, ...]]

DIFF_LIST_LIMIT = 200  # names kept per list in the stored summary; the counts are always whole

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
REPORT_LISTS = [
    "tables_added",
    "tables_dropped",
    "columns_added",
    "columns_dropped",
    "types_changed",
    "foreign_keys_added",
    "foreign_keys_dropped",
]


@dataclass(frozen=True)
class StoredTable:
    pk: int
    structure: dict[str, Any]  # TABLE_STRUCTURE → value


@dataclass(frozen=True)
class StoredColumn:
    pk: int
    structure: tuple  # COLUMN_STRUCTURE values, in that order


@dataclass(frozen=True)
class StoredForeignKey:
    pk: int
    table: TableKey
    name: str
    columns: tuple[str, ...]
    referred: TableKey  # as the Mart names it
    referred_columns: tuple[str, ...]
    linked_to: TableKey | None  # the catalog table it points at, if any


@dataclass
class StoredCatalog:
    """The catalog of one source as plain values, tables in catalog order."""

    tables: dict[TableKey, StoredTable] = field(default_factory=dict)
    columns: dict[ColumnKey, StoredColumn] = field(default_factory=dict)
    foreign_keys: list[StoredForeignKey] = field(default_factory=list)
    # Set when the diff is scoped to some schemas: the tables of the other schemas (kept, and
    # still targets of foreign keys) and their foreign keys pointing into the scoped schemas.
    others: set[TableKey] = field(default_factory=set)
    outside_foreign_keys: list[StoredForeignKey] = field(default_factory=list)


@dataclass
class CatalogDiff:
    first: bool
    tables_to_add: list[tuple[TableKey, dict[str, Any]]] = field(default_factory=list)
    tables_to_change: dict[int, dict[str, Any]] = field(default_factory=dict)
    tables_to_drop: list[int] = field(default_factory=list)
    columns_to_add: list[tuple[TableKey, dict[str, Any]]] = field(default_factory=list)
    columns_to_change: dict[int, dict[str, Any]] = field(default_factory=dict)
    columns_to_drop: list[int] = field(default_factory=list)
    foreign_keys_to_add: list[tuple[TableKey, ForeignKeySnap, TableKey | None]] = field(
        default_factory=list
    )
    foreign_keys_to_relink: dict[int, TableKey | None] = field(default_factory=dict)
    foreign_keys_to_drop: list[int] = field(default_factory=list)
    report: dict[str, list] = field(default_factory=lambda: {name: [] for name in REPORT_LISTS})

    def summary(self) -> dict:
        """The report as stored on the source: whole counts, lists cut at DIFF_LIST_LIMIT."""
        summary: dict[str, Any] = {"first": self.first, "counts": {}}
        for name, items in self.report.items():
            summary["counts"][name] = len(items)
            summary[name] = items[:DIFF_LIST_LIMIT]
        summary["changed"] = any(summary["counts"].values()) and not self.first
        return summary


def unique_snaps(tables: list[TableSnap]) -> dict[TableKey, TableSnap]:
    """The snapshot by table key; a table or a column defined twice is refused."""
    snaps: dict[TableKey, TableSnap] = {}
    for snap in tables:
        if snap.key in snaps:
            raise ValidationError(f"The table {qualified(snap.key)} is defined twice.")
        names = [c.name for c in snap.columns]
        if len(set(names)) < len(names):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            raise ValidationError(
                f"The table {qualified(snap.key)} has the column {duplicates[0]} twice."
            )
        snaps[snap.key] = snap
    return snaps


def catalog_diff(
    snaps: dict[TableKey, TableSnap],
    stored: StoredCatalog,
    *,
    schemas: set[str] | None = None,
) -> CatalogDiff:
    """What to write so the catalog matches `snaps`. With `schemas`, the snapshot is of those
    schemas only: the stored tables of every other schema are kept as they are (and foreign keys
    into them stay linked)."""
    if schemas is not None:
        stored = _in_scope(stored, schemas)
    diff = CatalogDiff(first=not stored.tables and not stored.others)
    _diff_tables(snaps, stored, diff)
    _diff_columns(snaps, stored, diff)
    _diff_foreign_keys(snaps, stored, diff)
    return diff


def _in_scope(stored: StoredCatalog, schemas: set[str]) -> StoredCatalog:
    """The stored catalog cut to `schemas`; the tables of the other schemas go to `others`."""
    inside = StoredCatalog(others=set(stored.others))
    for key, table in stored.tables.items():
        if key[0] in schemas:
            inside.tables[key] = table
        else:
            inside.others.add(key)
    inside.columns = {key: c for key, c in stored.columns.items() if key[0][0] in schemas}
    inside.foreign_keys = [fk for fk in stored.foreign_keys if fk.table[0] in schemas]
    inside.outside_foreign_keys = [
        fk for fk in stored.foreign_keys if fk.table[0] not in schemas and fk.referred[0] in schemas
    ]
    return inside


def _diff_tables(snaps: dict[TableKey, TableSnap], stored: StoredCatalog, diff: CatalogDiff):
    for key, snap in snaps.items():
        values = {
            "kind": str(snap.kind),
            "comment": snap.comment,
            "primary_key": snap.primary_key,
            "unique_constraints": snap.unique_constraints,
            "indexes": snap.indexes,
        }
        row = stored.tables.get(key)
        if row is None:
            diff.tables_to_add.append((key, values))
            diff.report["tables_added"].append(qualified(key))
        elif row.structure != values:
            diff.tables_to_change[row.pk] = values
    for key, row in stored.tables.items():
        if key not in snaps:
            diff.tables_to_drop.append(row.pk)
            diff.report["tables_dropped"].append(qualified(key))


def _diff_columns(snaps: dict[TableKey, TableSnap], stored: StoredCatalog, diff: CatalogDiff):
    seen: set[ColumnKey] = set()
    stored_columns = stored.columns
    to_add = diff.columns_to_add
    added_report = diff.report["columns_added"]
    for key, snap in snaps.items():
        primary_key = set(snap.primary_key)
        table_is_stored = key in stored.tables
        for col in snap.columns:
            name = col.name
            row = stored_columns.get((key, name)) if stored_columns else None
            if row is None:
                # the values of COLUMN_STRUCTURE, written out: a new column's row as it is stored
                to_add.append(
                    (
                        key,
                        {
                            "name": name,
                            "position": col.position,
                            "data_type": col.data_type,
                            "length": col.length,
                            "precision": col.precision,
                            "scale": col.scale,
                            "nullable": col.nullable,
                            "default": col.default,
                            "comment": col.comment,
                            "is_primary_key": name in primary_key,
                        },
                    )
                )
                if table_is_stored:
                    added_report.append(f"{qualified(key)}.{name}")
                continue
            values = (
                col.position,
                col.data_type,
                col.length,
                col.precision,
                col.scale,
                col.nullable,
                col.default,
                col.comment,
                name in primary_key,
            )
            seen.add((key, name))
            if row.structure == values:
                continue
            if row.structure[1:5] != values[1:5]:
                diff.report["types_changed"].append(
                    {
                        "column": f"{qualified(key)}.{name}",
                        "from": type_text(*row.structure[1:5]),
                        "to": type_text(col.data_type, col.length, col.precision, col.scale),
                    }
                )
            diff.columns_to_change[row.pk] = dict(zip(COLUMN_STRUCTURE, values, strict=True))
    # A dropped table takes its columns with it; only columns of kept tables are dropped one by one.
    order = {key: rank for rank, key in enumerate(stored.tables)}
    gone = sorted(
        ((key, row) for key, row in stored.columns.items() if key not in seen and key[0] in snaps),
        key=lambda item: (order[item[0][0]], item[1].structure[0], item[0][1]),
    )
    for (table, name), row in gone:
        diff.columns_to_drop.append(row.pk)
        diff.report["columns_dropped"].append(f"{qualified(table)}.{name}")


def _diff_foreign_keys(
    snaps: dict[TableKey, TableSnap], stored: StoredCatalog, diff: CatalogDiff
) -> None:
    existing = {_stored_fk_key(fk): fk for fk in stored.foreign_keys}
    wanted: set[ForeignKeyKey] = set()
    for key, snap in snaps.items():
        for fk in snap.foreign_keys:
            fk_key = _fk_key(
                key, fk.columns, fk.referred_schema, fk.referred_table, fk.referred_columns
            )
            wanted.add(fk_key)
            target = _fk_target((fk.referred_schema, fk.referred_table), snaps, stored)
            row = existing.get(fk_key)
            if row is None:
                diff.foreign_keys_to_add.append((key, fk, target))
                if not diff.first:
                    diff.report["foreign_keys_added"].append(fk_text(qualified(key), fk))
            elif row.linked_to != target:
                diff.foreign_keys_to_relink[row.pk] = target
    # a foreign key of another schema into the scoped ones follows its target's fate
    for outside in stored.outside_foreign_keys:
        target = _fk_target(outside.referred, snaps, stored)
        if outside.linked_to != target:
            diff.foreign_keys_to_relink[outside.pk] = target
    order = {key: rank for rank, key in enumerate(stored.tables)}
    gone = sorted(
        (fk for fk_key, fk in existing.items() if fk_key not in wanted and fk.table in snaps),
        key=lambda fk: (order[fk.table], fk.name, fk.pk),
    )
    for dropped in gone:
        diff.foreign_keys_to_drop.append(dropped.pk)
        diff.report["foreign_keys_dropped"].append(
            f"{qualified(dropped.table)}({', '.join(dropped.columns)}) → "
            f"{qualified(dropped.referred)}({', '.join(dropped.referred_columns)})"
        )


def _fk_target(
    referred: TableKey, snaps: dict[TableKey, TableSnap], stored: StoredCatalog
) -> TableKey | None:
    """The catalog table a foreign key points at: one just read, or one of a schema kept aside."""
    return referred if referred in snaps or referred in stored.others else None


def _fk_key(table: TableKey, columns, referred_schema, referred_table, referred_columns):
    return (table, tuple(columns), referred_schema or "", referred_table, tuple(referred_columns))


def _stored_fk_key(fk: StoredForeignKey) -> ForeignKeyKey:
    return _fk_key(fk.table, fk.columns, fk.referred[0], fk.referred[1], fk.referred_columns)


def fk_text(table_name: str, fk: ForeignKeySnap) -> str:
    target = (
        f"{fk.referred_schema}.{fk.referred_table}" if fk.referred_schema else fk.referred_table
    )
    return f"{table_name}({', '.join(fk.columns)}) → {target}({', '.join(fk.referred_columns)})"


def qualified(key: TableKey) -> str:
    return f"{key[0]}.{key[1]}" if key[0] else key[1]


def type_text(data_type, length, precision, scale) -> str:
    if length and f"({length}" not in data_type:
        return f"{data_type}({length})"
    if precision is not None and "(" not in data_type:
        return f"{data_type}({precision}{f', {scale}' if scale else ''})"
    return data_type
