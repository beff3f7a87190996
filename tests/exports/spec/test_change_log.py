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


def test_both_readers_pair_each_record_with_the_one_before_it_in_the_same_order(mapped, ba):
    """The log's records are read with the record before each one in one sorted query
    (PostgreSQL, which sorts on the server), or through the index of their moment with the fields
    read by key (SQLite, which would sort in the process's memory): the same pairs, in the same
    order — changes at the same moment by row, then by record, a row changed twice at that
    moment compared with its own previous change."""
    from datetime import timedelta

    from django.utils import timezone
    from simple_history.utils import bulk_update_with_history

    from exports.selectors import spec

    rows = list(AttributeMapping.objects.filter(engagement=mapped).order_by("-pk")[:6])
    moment = timezone.now()
    for note in ("First note.", "Second note."):
        for row in rows:
            row.notes = note
        bulk_update_with_history(
            rows, AttributeMapping, ["notes"], default_user=ba, default_date=moment
        )
    history = AttributeMapping.history.model
    changed = history.objects.filter(engagement=mapped, history_type__in=["~", "-"]).values("id")
    records = history.objects.filter(id__in=changed)
    fields = ("id", "history_id", "history_type", "history_date", "history_user_id")

    def read(pairs) -> list[tuple]:
        return [
            (record["history_id"], record["id"], {n: before[n] for n in ATTRIBUTE_LOGGED})
            for record, before in pairs
        ]

    for since in (None, moment - timedelta(microseconds=1)):
        sorted_by_query = read(spec._record_pairs(records, fields, ATTRIBUTE_LOGGED, since))
        listed = read(spec._listed_record_pairs(records, changed, fields, ATTRIBUTE_LOGGED, since))
        assert listed == sorted_by_query
    # the twelve changes of that moment (the last read), by row then record
    assert len(listed) == 12
    assert [row_id for _key, row_id, _before in listed] == sorted([row.pk for row in rows] * 2)
    notes = [before["notes"] for _key, _row, before in listed]
    assert notes[1::2] == ["First note."] * 6  # each row's second change follows its first
