"""Saving and deleting historied models with the acting user recorded (simple-history)."""

from __future__ import annotations

import json
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_create_with_history, get_history_model_for_model


class BulkHistoricalRecords(HistoricalRecords):
    """History of rows written in bulk (`fast_bulk_insert_with_history`: a first store of a Mart
    adds a record per table, column and key) and read a row at a time, by the row's id.

    Every index and every deferred foreign-key check is work for each record of such a write
    (on PostgreSQL, 30,000 columns' records: ~0.10 s of checks at commit, ~0.05 s of indexes),
    and nothing looks these records up by moment, user or the references named `unindexed`. So
    those go without an index, and the acting user is not checked again by the database for
    each record: a service's acting user exists, and deleting a user still clears it from the
    records through Django (on_delete SET_NULL), as for any history."""

    def __init__(self, *args, unindexed: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, no_db_index=list(unindexed), user_db_constraint=False, **kwargs)

    @property
    def _date_indexing(self) -> bool:  # simple-history's switch for the history_date index
        return False

    def _get_history_user_fields(self) -> dict:
        fields = super()._get_history_user_fields()
        fields["history_user"].db_index = False
        return fields


def save_with_history(
    instance: models.Model,
    *,
    acting_user: User | None,
    validate: bool = True,
    relations_as_loaded: bool = False,
) -> None:
    """Validate (fields, choices and named constraints), then save with `acting_user` in history.
    Fields the instance was loaded without are neither validated nor written (Model.save writes
    the loaded fields only).

    `relations_as_loaded` is for a service saving a row it loaded, whose foreign keys it did not
    change (or set to the acting user): they are not looked up again, one query each, nor the
    unique constraints that include them — the database's own constraints hold them."""
    if validate:
        exclude = set(instance.get_deferred_fields())
        if relations_as_loaded and not instance._state.adding:
            exclude |= {f.name for f in instance._meta.concrete_fields if f.is_relation}
        instance.full_clean(exclude=exclude)
    instance._history_user = acting_user  # type: ignore[attr-defined]  # simple-history reads it
    instance.save()


def delete_with_history(instance: models.Model, *, acting_user: User) -> None:
    instance._history_user = acting_user  # type: ignore[attr-defined]  # simple-history reads it
    instance.delete()


def apply_changes(instance: models.Model, data: dict, *, allowed: set[str]) -> list[str]:
    """Copy the allowed fields from `data` onto `instance`; returns the names that changed."""
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    changed = []
    for name, value in data.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


# Field types whose Python value is already what the database driver expects: no per-value
# preparation needed (the others go through Field.get_db_prep_save, as Model.save() does).
_PLAIN_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "URLField",
}
_HISTORY_FIELDS = {
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user",
}


ANALYZE_AFTER_ROWS = 1_000  # a batch this large refreshes the planner's statistics (PostgreSQL)


def fast_bulk_insert_with_history(
    model: type[models.Model],
    rows: list[dict],
    *,
    acting_user: User,
    connection=None,
    history_date=None,
) -> list[int]:
    """Insert `rows` (dicts of field attname → value; missing fields take their default) into
    `model`'s table and write their '+' historical rows; returns the new primary keys in order.

    Why it exists: this is the one allowed way around `bulk_create_with_history` for historied
    models, for the large catalog writes issue 4 times (tens of thousands of Mart columns).
    `bulk_create_with_history` builds a model instance per row, prepares every value through the
    ORM and then does it all again for the historical instances: storing 30,000 columns took
    10-20x the time the Mart took to read. Here the values go straight to the database: on
    PostgreSQL the keys come from the table's sequence in one `nextval … generate_series` query
    and the rows go in with COPY; on SQLite the keys are the next free ones and the rows go in with
    one executemany (SQLite has one writer: a concurrent insert makes one of the two transactions
    fail, never share a key). The history rows hold exactly the stored values — on PostgreSQL a
    second COPY of the very values the first one wrote (selecting 20,000 new rows back by key for
    an INSERT … SELECT cost more than sending them again), on SQLite one INSERT … SELECT of the
    stored rows — plus what
    `bulk_create_with_history(default_user=acting_user)` adds: history_date (one timestamp for the
    batch), history_type '+', history_user_id and a NULL change reason. Other databases fall back
    to `bulk_create_with_history` itself.

    No model validation, signals or save() run — callers pass checked values, as for
    bulk_create; auto_now / auto_now_add fields get the batch's timestamp, as save() would.
    Runs inside the caller's transaction (or its own).
    """
    if not rows:
        return []
    connection = connection or connections[router.db_for_write(model)]
    opts = model._meta
    pk = opts.pk
    fields = [f for f in opts.concrete_fields if f is not pk]
    known = {f.attname for f in fields}
    some_row_gives = set().union(*rows)
    unknown = some_row_gives - known
    if unknown:
        raise ValueError(f"{opts.label} has no field {', '.join(sorted(unknown))}.")
    history = get_history_model_for_model(model)
    history_names = {f.name for f in history._meta.concrete_fields}
    extra = history_names - {f.name for f in opts.concrete_fields}
    if extra != _HISTORY_FIELDS:
        raise ValueError(f"{history._meta.label} has fields this helper does not fill: {extra}.")

    now = history_date or timezone.now()
    # A plain field every row gives is taken as is, all of them by one C-level itemgetter; only
    # the others (missing values, auto_now, values to prepare) cost a Python call per row.
    every_row_gives = set(rows[0]).intersection(*rows[1:])  # in C: no Python step per row
    given = [
        f for f in fields if f.get_internal_type() in _PLAIN_TYPES and f.attname in every_row_gives
    ]
    # A field no row gives has the same value in every row (its default, or the batch's
    # timestamp): worked out once — unless its default is a function whose values may differ.
    constant = [
        f
        for f in fields
        if f not in given and f.attname not in some_row_gives and _same_default_for_all(f)
    ]
    others = [f for f in fields if f not in given and f not in constant]
    getters = [_value_getter(field, now, connection) for field in others]
    constant_values = tuple(_value_getter(field, now, connection)({}) for field in constant)
    fields = given + others + constant  # the order of the values in each row
    if connection.vendor not in ("postgresql", "sqlite"):
        objs = bulk_create_with_history(
            [model(**row) for row in rows],
            model,
            default_user=acting_user,
            default_date=history_date,
        )
        return [obj.pk for obj in objs]
    take_given = _tuple_getter([f.attname for f in given])
    if getters:
        values = [
            take_given(row) + tuple([get(row) for get in getters]) + constant_values for row in rows
        ]
    else:
        values = [take_given(row) + constant_values for row in rows]

    quote = connection.ops.quote_name
    table, history_table = quote(opts.db_table), quote(history._meta.db_table)
    columns = [quote(pk.column)] + [quote(f.column) for f in fields]
    stamp = history._meta.get_field("history_date").get_db_prep_save(now, connection)
    history_columns = ", ".join(
        quote(history._meta.get_field(name).column)
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    )
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # the sequence is looked up once: as nextval's argument it would be per row (7x slower)
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk.column])
            sequence = cursor.fetchone()[0]
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, len(values)]
            )
            ids = [row[0] for row in cursor.fetchall()]
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for key, row in zip(ids, values, strict=True):
                    copy.write_row((key, *row))
            if len(ids) >= ANALYZE_AFTER_ROWS and _outgrows_statistics(cursor, table, len(ids)):
                # A first bulk load leaves the planner taking the table for nearly empty until
                # autovacuum comes round (a minute or more): it then joins 100,000 rows by nested
                # loops, 5-10 s a page. Its statistics are refreshed now, from a sample.
                cursor.execute(f"ANALYZE {table}")
        else:
            cursor.execute(
                f"SELECT max(coalesce(max({quote(pk.column)}), 0), coalesce((SELECT seq FROM "
                f"sqlite_sequence WHERE name = %s), 0)) FROM {table}",
                [opts.db_table],
            )
            start = cursor.fetchone()[0] + 1
            ids = list(range(start, start + len(values)))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})",
                [(key, *row) for key, row in zip(ids, values, strict=True)],
            )
            which, params = f"{quote(pk.column)} BETWEEN %s AND %s", [ids[0], ids[-1]]
        if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            return ids
        if connection.vendor == "postgresql":
            keep = [i for i, f in enumerate([pk, *fields]) if f.name in history_names]
            tail = (stamp, None, "+", getattr(acting_user, "pk", None))
            names = ", ".join([columns[i] for i in keep])
            with cursor.cursor.copy(
                f"COPY {history_table} ({names}, {history_columns}) FROM STDIN"
            ) as copy:
                if len(keep) == len(columns):
                    for key, row in zip(ids, values, strict=True):
                        copy.write_row((key, *row, *tail))
                else:
                    for key, row in zip(ids, values, strict=True):
                        full = (key, *row)
                        copy.write_row((*[full[i] for i in keep], *tail))
            return ids
        tracked = ", ".join(quote(f.column) for f in [pk, *fields] if f.name in history_names)
        cursor.execute(
            f"INSERT INTO {history_table} ({tracked}, {history_columns}) "
            f"SELECT {tracked}, %s, NULL, '+', %s FROM {table} WHERE {which}",
            [stamp, getattr(acting_user, "pk", None), *params],
        )
    return ids


def _outgrows_statistics(cursor, table: str, added: int) -> bool:
    """Whether `added` rows at least double `table` as PostgreSQL's planner knows it (its last
    statistics; -1 when never analyzed). A table the planner already knows as large plans well
    enough until autovacuum next analyzes it: sampling it again cost a 20,000-attribute contract
    import a quarter of a second."""
    cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
    known = cursor.fetchone()[0]
    return added >= max(known, 0)


def _same_default_for_all(field: models.Field) -> bool:
    """Whether every row left without `field` gets one same database value: a plain default, a
    fresh empty list or mapping, or the batch's timestamp (auto_now) — not a default function
    whose values may differ (uuid4, now)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return True
    return not callable(field.default) or field.default in (list, dict)


def _tuple_getter(names: list[str]) -> Callable[[dict], tuple]:
    """A row's values of `names` as a tuple (itemgetter of two names or more already is one)."""
    if len(names) >= 2:
        return itemgetter(*names)
    return lambda row: tuple(row[name] for name in names)


def _value_getter(field: models.Field, now, connection) -> Callable[[dict], Any]:
    """How to get a row's database value of `field` when the rows do not all give it plainly."""
    name = field.attname
    if field.get_internal_type() in _PLAIN_TYPES:
        default = field.get_default()
        return lambda row: row.get(name, default)
    if type(field) is models.JSONField and field.encoder is None:
        return _json_getter(field, connection)
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        # what DateField.pre_save() would set on an insert
        stamp = now if isinstance(field, models.DateTimeField) else timezone.localdate(now)
        auto = field.get_db_prep_save(stamp, connection)
        return lambda row: auto

    def prepared(row: dict) -> Any:
        value = row[name] if name in row else field.get_default()
        return field.get_db_prep_save(value, connection)

    return prepared


# JSON values of these types are what `JSONField.get_db_prep_save` hands to `json.dumps` as they
# are (it only unwraps lazy strings and expressions).
_JSON_PLAIN = {dict, list, str, int, float, bool}


def _json_getter(field: models.JSONField, connection) -> Callable[[dict], Any]:
    """A row's database value of a JSONField without an encoder: the JSON text Django's
    `get_db_prep_save` writes (SQLite), or the text the Jsonb it makes is dumped to (PostgreSQL,
    where COPY reads a jsonb column from its text), None for SQL NULL. Empty lists and mappings,
    most of a contract's JSON values, are not encoded again for each row."""
    name = field.attname
    dumps = json.dumps
    empty: dict[type, str] = {list: "[]", dict: "{}"}
    prepare_save = field.get_db_prep_save

    def value_of(row: dict) -> Any:
        value = row[name] if name in row else field.get_default()
        if value is None:
            return None
        kind = type(value)
        if kind not in _JSON_PLAIN:  # a lazy string, an expression: Django's own way
            return prepare_save(value, connection)
        if not value and kind in empty:
            return empty[kind]
        return dumps(value)

    return value_of
