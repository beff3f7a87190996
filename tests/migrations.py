"""Moving the test database between migrations, for the stories of data migrations."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets, state_at=None):
    """Migrate the test database to `targets`; returns the model registry at `state_at`, when
    asked for."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    if state_at is None:
        return None
    executor.loader.build_graph()
    return executor.loader.project_state(state_at).apps


def latest_migrations() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
