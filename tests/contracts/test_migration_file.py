"""A layer's imported file moved out of the layer's row into a table of its own (contracts 0005),
and back, unchanged: the rows of a database imported before the move keep their files."""

from __future__ import annotations

import pytest

from contracts import services
from contracts.models import InterfaceLayerFile
from tests.migrations import latest_migrations, migrate_to

from .conftest import DEMO_FILE

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = ("contracts", "0004_layer_read_without_its_file")


def test_an_imported_file_moves_to_its_own_table_and_back(engagement, ba):
    # Given a contract imported today: its file beside its layer
    content = DEMO_FILE.read_bytes()
    layer = services.contract_import(
        engagement=engagement, file_name=DEMO_FILE.name, content=content, acting_user=ba
    )
    latest = latest_migrations()

    # When the database goes back to the day before the move
    old = migrate_to([BEFORE_THE_MOVE], state_at=[BEFORE_THE_MOVE])

    # Then the layer's row holds the file again
    layers = old.get_model("contracts", "InterfaceLayer").objects
    assert layers.values_list("source_file", flat=True).get(pk=layer.pk) == content.decode()

    # When it migrates forward again
    migrate_to(latest, state_at=latest)

    # Then the file is in its own table, as it was read
    assert InterfaceLayerFile.objects.get(layer=layer).content == content.decode()
