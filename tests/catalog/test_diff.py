"""The catalog diff on its own, without a database: what a re-introspection would add, change,
relink and drop, and what the BA reads about it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from catalog.diff import (
    COLUMN_STRUCTURE,
    StoredCatalog,
    StoredColumn,
    StoredForeignKey,
    StoredTable,
    catalog_diff,
    unique_snaps,
)
from catalog.services.introspection import ColumnSnap, ForeignKeySnap, TableSnap

TABLE = {
    "kind": "table",
    "comment": "",
    "primary_key": ["id"],
    "unique_constraints": [],
    "indexes": [],
}


def _customer(*columns: ColumnSnap, foreign_keys=()) -> TableSnap:
    return TableSnap(
        name="customer",
        schema="crm",
        columns=list(columns),
        primary_key=["id"],
        foreign_keys=list(foreign_keys),
    )


def _stored_customer() -> StoredCatalog:
    """The catalog as stored yesterday: crm.customer(id, email varchar(100))."""
    key = ("crm", "customer")
    return StoredCatalog(
        tables={key: StoredTable(1, TABLE)},
        columns={
            (key, "id"): StoredColumn(10, (1, "integer", None, None, None, False, "", "", True)),
            (key, "email"): StoredColumn(11, (2, "varchar", 100, None, None, True, "", "", False)),
        },
    )


def test_an_unchanged_mart_changes_nothing():
    snaps = unique_snaps(
        [
            _customer(
                ColumnSnap("id", "integer", nullable=False, position=1),
                ColumnSnap("email", "varchar", length=100, position=2),
            )
        ]
    )

    diff = catalog_diff(snaps, _stored_customer())

    assert diff.summary()["changed"] is False
    assert not (diff.tables_to_add or diff.tables_to_change or diff.columns_to_add)
    assert not (diff.columns_to_change or diff.columns_to_drop or diff.foreign_keys_to_add)


def test_a_renamed_column_and_a_wider_type_are_reported_by_name():
    # Given email became wider and a column was renamed since yesterday
    snaps = unique_snaps(
        [
            _customer(
                ColumnSnap("customer_id", "integer", nullable=False, position=1),
                ColumnSnap("email", "varchar", length=320, position=2),
            )
        ]
    )

    # When the snapshot is compared with the stored catalog
    diff = catalog_diff(snaps, _stored_customer())

    # Then the BA reads the change in plain names, and only those rows are written
    assert diff.report["columns_added"] == ["crm.customer.customer_id"]
    assert diff.report["columns_dropped"] == ["crm.customer.id"]
    assert diff.report["types_changed"] == [
        {"column": "crm.customer.email", "from": "varchar(100)", "to": "varchar(320)"}
    ]
    assert diff.columns_to_drop == [10]
    assert list(diff.columns_to_change) == [11]
    assert diff.summary()["counts"]["columns_added"] == 1


def test_a_foreign_key_is_relinked_when_its_table_appears():
    # Given a stored foreign key to a table the catalog did not have
    stored = _stored_customer()
    stored.foreign_keys.append(
        StoredForeignKey(
            pk=20,
            table=("crm", "customer"),
            name="fk_segment",
            columns=("segment_id",),
            referred=("crm", "segment"),
            referred_columns=("id",),
            linked_to=None,
        )
    )
    fk = ForeignKeySnap(["segment_id"], "segment", ["id"], referred_schema="crm")
    snaps = unique_snaps(
        [
            _customer(
                ColumnSnap("id", "integer", nullable=False, position=1),
                ColumnSnap("email", "varchar", length=100, position=2),
                foreign_keys=[fk],
            ),
            TableSnap(name="segment", schema="crm", columns=[ColumnSnap("id", "integer")]),
        ]
    )

    # When the Mart now has that table
    diff = catalog_diff(snaps, stored)

    # Then the table is added and the key points at it, without being dropped and re-added
    assert diff.report["tables_added"] == ["crm.segment"]
    assert diff.foreign_keys_to_relink == {20: ("crm", "segment")}
    assert diff.foreign_keys_to_add == [] and diff.foreign_keys_to_drop == []


def test_a_table_defined_twice_is_refused():
    with pytest.raises(ValidationError, match="The table crm.customer is defined twice."):
        unique_snaps([_customer(), _customer()])


def test_a_new_column_is_stored_with_every_structural_fact_the_next_diff_compares():
    # Given a column that appeared in the Mart since yesterday
    snaps = unique_snaps(
        [
            _customer(
                ColumnSnap("id", "integer", nullable=False, position=1),
                ColumnSnap("email", "varchar", length=100, position=2),
                ColumnSnap("score", "numeric", precision=9, scale=2, position=3, comment="RFM"),
            )
        ]
    )

    [(key, row)] = catalog_diff(snaps, _stored_customer()).columns_to_add

    # Then its row carries exactly the facts a re-introspection compares, with their values
    assert key == ("crm", "customer")
    assert set(row) == {"name", *COLUMN_STRUCTURE}
    assert (row["name"], row["position"], row["precision"], row["scale"]) == ("score", 3, 9, 2)
    assert (row["comment"], row["is_primary_key"]) == ("RFM", False)
