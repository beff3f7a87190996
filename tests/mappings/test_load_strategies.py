"""A Tech BA chooses how each entity loads — full refresh, merge on its key, append past a
watermark — and the workbench refuses a choice the contract does not allow, with the reason, on the
page's service, the API and the workbook alike, leaving the entity as it was."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from mappings.choices import LoadStrategy
from mappings.models import EntityMapping
from mappings.services import mapping as services
from tests.exports.spec.conftest import edit, export_bytes, open_workbook, save
from tests.exports.spec.test_bad_input import refused

pytestmark = pytest.mark.django_db

BASE = "/api/v1/engagements/acme-360/entity-mappings"


def _entity(engagement, name: str) -> EntityMapping:
    return EntityMapping.objects.get(engagement=engagement, entity_name=name)


def _refusal(entity: EntityMapping, ba, data: dict) -> dict:
    """The refusal's messages by field; the entity and its history are left as they were."""
    before = (entity.row_version, entity.history.count())
    with pytest.raises(ValidationError) as refused_:
        services.entity_mapping_update(entity_mapping=entity, data=data, acting_user=ba)
    entity.refresh_from_db()
    assert (entity.row_version, entity.history.count()) == before
    return refused_.value.message_dict


def test_events_are_appended_past_their_timestamp(prepared, ba):
    events = _entity(prepared, "email_event")
    # When the BA chooses an append by the label the workbook shows, past the event time
    saved = services.entity_mapping_update(
        entity_mapping=events,
        data={"load_strategy": "Append by watermark", "watermark": "event_ts"},
        acting_user=ba,
    )
    # Then the value is stored, and its history names the BA
    assert (saved.load_strategy, saved.watermark) == (LoadStrategy.APPEND, "event_ts")
    assert saved.history.first().history_user == ba


def test_a_strategy_the_contract_does_not_allow_is_refused_with_its_reason(prepared, ba):
    events, customer = _entity(prepared, "email_event"), _entity(prepared, "customer")
    assert _refusal(events, ba, {"load_strategy": "append"}) == {
        "watermark": [
            "Append by watermark needs a watermark: the attribute of email_event that grows "
            "with new rows."
        ]
    }
    assert _refusal(events, ba, {"load_strategy": "append", "watermark": "opened_at"}) == {
        "watermark": ["opened_at is not an attribute of email_event."]
    }
    # customers are referred to by addresses, events and subscriptions: deleting them all every
    # day would break those foreign keys
    refusal = _refusal(customer, ba, {"load_strategy": "full_refresh"})
    assert refusal == {
        "load_strategy": [
            "A full refresh deletes every row of customer, and customer_address, email_event, "
            "subscription refer to them by foreign key: merge on the key instead."
        ]
    }
    assert _refusal(customer, ba, {"load_strategy": "sideways"}) == {
        "load_strategy": [
            "Choose one of Full refresh, Merge on key, Append by watermark, or leave it blank "
            "to merge on the key (full refresh without one)."
        ]
    }


@pytest.mark.parametrize(
    ("condition", "says"),
    [
        ("c.deleted_flag = 'Y'", "has no column 'deleted_flag'"),
        ("c.status = 'GONE' OR pg_sleep(10) IS NULL", "PG_SLEEP makes the database wait"),
        ("c.status = = 'GONE'", "line 1"),
    ],
)
def test_a_delete_condition_is_checked_like_a_filter(customer, ba, condition, says):
    refusal = _refusal(customer, ba, {"delete_condition": condition})
    assert list(refusal) == ["delete_condition"]
    assert says in " ".join(refusal["delete_condition"])


def test_the_api_takes_the_strategy_and_refuses_what_the_page_refuses(customer, ba, viewer):
    client = APIClient()
    client.force_authenticate(ba)
    url = f"{BASE}/{customer.pk}/"
    # A delete condition is saved and shown
    saved = client.patch(
        url,
        {"row_version": customer.row_version, "delete_condition": "c.status = 'CLOSED'"},
        format="json",
    )
    assert saved.status_code == 200, saved.json()
    assert (saved.json()["load_strategy"], saved.json()["delete_condition"]) == (
        "",
        "c.status = 'CLOSED'",
    )
    # A full refresh of a referenced entity is a 400 naming the field
    refused_ = client.patch(
        url, {"row_version": saved.json()["row_version"], "load_strategy": "full_refresh"}
    )
    assert refused_.status_code == 400
    assert "foreign key" in refused_.json()["load_strategy"][0]
    # A viewer may not change it; another engagement's entity is not there
    client.force_authenticate(viewer)
    assert client.patch(url, {"row_version": 1, "load_strategy": "merge"}).status_code == 403
    client.force_authenticate(None)
    assert client.patch(url, {"row_version": 1}).status_code == 401


def test_the_workbook_refuses_an_unknown_strategy_by_its_cell(prepared, ba, viewer):
    workbook = open_workbook(export_bytes(prepared, viewer))
    edit(workbook["Entities"], ("customer",), "Load Strategy", "Sideways")
    problems = refused(prepared, ba, save(workbook))
    assert len(problems) == 1
    assert problems[0].endswith(
        "column H (Load Strategy): 'Sideways' is not a load strategy; choose one of Full refresh, "
        "Merge on key, Append by watermark, or leave it empty."
    )
