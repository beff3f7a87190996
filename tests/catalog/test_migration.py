"""The catalog moved out of `mappings` into its own app without moving a row.

A database holding a cataloged, profiled Mart and its history is migrated back to the schema of
the day before the move (`migrate catalog zero`), where the old `mappings` models read every row,
and forward again, where the `catalog` models read the same rows. Only model state and content
types change hands; no table is created, dropped or copied.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.models import (
    CatalogColumn,
    CatalogForeignKey,
    CatalogTable,
    ColumnProfile,
    ImpactedEntity,
    SourceSystem,
)
from catalog.services import sources as services
from tests.migrations import latest_migrations, migrate_to

pytestmark = pytest.mark.django_db(transaction=True)

MODELS = [
    SourceSystem,
    CatalogTable,
    CatalogColumn,
    CatalogForeignKey,
    ColumnProfile,
    ImpactedEntity,
]


BEFORE_THE_MOVE = ("mappings", "0002_mapping_rules")


def _counts(registry, app_label: str) -> dict[str, tuple[int, int]]:
    """Rows and history rows of every catalog model, as `registry` sees them in `app_label`."""
    counts = {}
    for model in MODELS:
        name = model.__name__
        rows = registry.get_model(app_label, name).objects.count()
        history = registry.get_model(app_label, f"Historical{name}").objects.count()
        counts[name] = (rows, history)
    return counts


def _table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for model in MODELS:
            for table in (model._meta.db_table, model.history.model._meta.db_table):
                cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - our table names
                counts[table] = cursor.fetchone()[0]
    return counts


def test_a_populated_catalog_survives_the_move_back_and_forth(profiled, ba, engagement):
    # Given a Mart cataloged and profiled, with a BA's note on a table and an impacted entity
    table = CatalogTable.objects.get(source=profiled, name="crm_customer")
    services.table_understanding_update(
        table=table, data={"grain": "One row per CRM record."}, acting_user=ba
    )
    services.impacted_entity_add(table=table, entity_name="Customer", acting_user=ba)
    before = _table_counts()
    assert all(before.values()), before  # every table and history table holds rows

    # When the database goes back to the day before the move (`migrate catalog zero`)
    old = migrate_to([("catalog", None)], state_at=BEFORE_THE_MOVE)

    # Then the old `mappings` models read every row and every history row, and nothing moved
    assert _counts(old, "mappings") == {
        name: (before[m._meta.db_table], before[m.history.model._meta.db_table])
        for name, m in ((m.__name__, m) for m in MODELS)
    }
    assert old.get_model("mappings", "CatalogTable").objects.get(pk=table.pk).grain == (
        "One row per CRM record."
    )
    assert ContentType.objects.filter(app_label="mappings", model="catalogtable").exists()
    assert _table_counts() == before

    # When it migrates forward again
    new = migrate_to(latest_migrations(), state_at=latest_migrations())

    # Then the `catalog` app owns the same rows, the note included, and its content types
    assert _counts(new, "catalog") == _counts(old, "mappings")
    assert _table_counts() == before
    assert CatalogTable.objects.get(pk=table.pk).grain == "One row per CRM record."
    history = CatalogTable.history.filter(id=table.pk)
    assert history.count() >= 2  # introspected, then the note
    assert history.first().grain == "One row per CRM record."
    assert set(
        ContentType.objects.filter(model="catalogtable").values_list("app_label", flat=True)
    ) == {"catalog"}


def test_the_move_changes_model_state_only(db):
    # Given the migration plan from the day before the move to today
    executor = MigrationExecutor(connection)
    moves = [executor.loader.get_migration("catalog", "0001_initial")]
    moves.append(executor.loader.get_migration("mappings", "0003_catalog_moves_to_its_own_app"))

    # Then neither migration has an operation that touches a table
    for migration in moves:
        for operation in migration.operations:
            assert type(operation).__name__ in {"SeparateDatabaseAndState", "RunPython"}
            assert getattr(operation, "database_operations", []) == []
