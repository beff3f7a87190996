"""The import writes its rows and their history through the COPY-based fast insert; what it stores
is exactly what simple-history's bulk_create_with_history stored before — on SQLite, and on
PostgreSQL when the suite runs there (DATABASE_URL=postgres://…)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from simple_history.utils import bulk_create_with_history

from contracts import services
from contracts.importers import parse_contract
from contracts.models import (
    InterfaceAttribute,
    InterfaceEntity,
    InterfaceLayer,
    InterfaceRelationship,
)
from workbench.history import save_with_history

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = [
    ROOT / "contracts" / "demo" / "marketing_360.odcs.yaml",
    ROOT / "tests" / "contracts" / "odcs" / "orders_everything.odcs.yaml",
]


def _slow_import(engagement, user, path: Path) -> InterfaceLayer:
    """The same contract written the way the service wrote it before: model instances through
    simple-history's bulk_create_with_history."""
    parsed = parse_contract(path.name, path.read_bytes())
    layer = InterfaceLayer(
        engagement=engagement,
        name=parsed.name,
        version="slow",
        source_file_name=path.name,
        source_format=parsed.source_format,
        file_hash="0" * 64,
        imported_by=user,
    )
    save_with_history(layer, acting_user=user, validate=False)
    entities = bulk_create_with_history(
        [
            InterfaceEntity(**services.entity_row(record, layer_id=layer.pk, position=position))
            for position, record in enumerate(parsed.entities, start=1)
        ],
        InterfaceEntity,
        default_user=user,
    )
    attributes = bulk_create_with_history(
        [
            InterfaceAttribute(
                **services.attribute_row(
                    record, layer_id=layer.pk, entity_id=entity.pk, position=position
                )
            )
            for entity, entity_record in zip(entities, parsed.entities, strict=True)
            for position, record in enumerate(entity_record.attributes, start=1)
        ],
        InterfaceAttribute,
        default_user=user,
    )
    ids = {(a.entity.name, a.name): a.pk for a in attributes}
    rows = services.relationship_rows(
        parsed, layer_id=layer.pk, attribute_ids=ids, file_name=path.name
    )
    bulk_create_with_history(
        [InterfaceRelationship(**row) for row in rows], InterfaceRelationship, default_user=user
    )
    return layer


def _named(rows: list[dict]) -> list[dict]:
    """Rows with their keys replaced by the names they stand for, so two layers compare."""
    entity_names = dict(InterfaceEntity.objects.values_list("pk", "name"))
    attribute_names = {
        pk: (entity_names[entity], name)
        for pk, entity, name in InterfaceAttribute.objects.values_list("pk", "entity", "name")
    }
    named = []
    for row in rows:
        row = dict(row)
        for key in ("id", "history_id", "layer_id"):
            row.pop(key, None)
        if "entity_id" in row:
            row["entity_id"] = entity_names[row["entity_id"]]
        for key in ("from_attribute_id", "to_attribute_id"):
            if row.get(key) is not None:
                row[key] = attribute_names[row[key]]
        named.append(row)
    return named


def _stored_and_history(model, layer: InterfaceLayer) -> tuple[list[dict], list[dict]]:
    order = ["entity__position", "position"] if model is InterfaceAttribute else ["pk"]
    stored = list(model.objects.filter(layer=layer).order_by(*order).values())
    ids = [row["id"] for row in stored]
    history = sorted(
        model.history.filter(layer_id=layer.pk).values(), key=lambda row: ids.index(row["id"])
    )
    return stored, history


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda path: path.name)
def test_the_import_stores_the_rows_and_history_bulk_create_with_history_stored(
    engagement, ba, path
):
    # given the contract written the old way
    slow = _slow_import(engagement, ba, path)
    before = dt.datetime.now(dt.UTC)
    # when the service imports it
    fast = services.contract_import(
        engagement=engagement, file_name=path.name, content=path.read_bytes(), acting_user=ba
    )
    after = dt.datetime.now(dt.UTC)
    # then every table holds the same rows and the same historical rows, but for the keys and
    # the history dates, which fall inside the import
    for model in (InterfaceEntity, InterfaceAttribute, InterfaceRelationship):
        fast_rows, fast_history = _stored_and_history(model, fast)
        slow_rows, slow_history = _stored_and_history(model, slow)
        assert fast_rows, model
        assert len(fast_history) == len(fast_rows)
        assert [row["id"] for row in fast_history] == [row["id"] for row in fast_rows]
        for row in fast_history:
            assert before <= row.pop("history_date") <= after
            assert (row["history_type"], row["history_user_id"]) == ("+", ba.pk)
            assert row["history_change_reason"] is None
        for row in slow_history:
            row.pop("history_date")
        assert _named(fast_rows) == _named(slow_rows)
        assert _named(fast_history) == _named(slow_history)
        assert _named(fast_history) == [
            {**row, "history_type": "+", "history_user_id": ba.pk, "history_change_reason": None}
            for row in _named(fast_rows)
        ]
    # and simple-history reads them back as its own
    attribute = InterfaceAttribute.objects.filter(layer=fast).first()
    assert attribute.history.get().instance == attribute
