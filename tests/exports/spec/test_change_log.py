"""The Change Log is read as a stream, newest first: every field a person changed on an entity or
an attribute mapping, with who and when, and the rows deleted — exactly what the mappings'
history records, whatever the size of the log."""

from __future__ import annotations

import pytest

from exports.selectors.spec import ATTRIBUTE_LOGGED, ENTITY_LOGGED, change_log
from mappings.models import AttributeMapping, EntityMapping

pytestmark = pytest.mark.django_db


def logged_by_hand(engagement) -> list[dict]:
    """The log walked record by record from the history, then sorted newest first."""
    rows = []
    names = dict(EntityMapping.objects.values_list("pk", "entity_name"))
    for model, logged in ((EntityMapping, ENTITY_LOGGED), (AttributeMapping, ATTRIBUTE_LOGGED)):
        records = model.history.filter(engagement=engagement).order_by(
            "id", "history_date", "history_id"
        )
        before = None
        for record in records:
            previous, before = (before if before and before.id == record.id else None), record
            if previous is None:
                continue
            entity = getattr(record, "entity_name", None) or names.get(record.entity_mapping_id)
            base = {
                "when": record.history_date,
                "who": record.history_user.get_full_name() or record.history_user.username,
                "entity": entity,
                "attribute": getattr(record, "attribute_name", ""),
            }
            if record.history_type == "-":
                rows.append({**base, "field": "(row deleted)", "before": "", "after": ""})
                continue
            for name, label in logged.items():
                old, new = getattr(previous, name), getattr(record, name)
                if old != new:
                    rows.append({**base, "field": label, "before": old, "after": new})
    return sorted(rows, key=lambda r: r["when"], reverse=True)


def test_the_log_lists_every_change_newest_first_with_deleted_rows(mapped, ba):
    # Given the demo mapping written and reviewed, then a row deleted from the mapping
    gone = AttributeMapping.objects.filter(engagement=mapped).order_by("pk").last()
    gone._history_user = ba
    gone.delete()

    log = list(change_log(engagement=mapped))

    # Then the streamed log is the history's, change for change, in the same order
    assert log == logged_by_hand(mapped)
    assert log[0]["field"] == "(row deleted)"
    assert (log[0]["entity"], log[0]["attribute"]) == (
        gone.entity_mapping.entity_name,
        gone.attribute_name,
    )
    assert {row["field"] for row in log} > {"(row deleted)", "Status"}
    # And since a moment, only what changed after it
    middle = log[len(log) // 2]["when"]
    assert list(change_log(engagement=mapped, since=middle)) == [
        row for row in log if row["when"] > middle
    ]
