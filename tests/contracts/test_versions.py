"""Versions: publishing is explicit, one published version per engagement, a new version shows
its diff against the published one and the mappings it affects (through the hook)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from contracts import hooks, selectors, services
from contracts.choices import LayerStatus
from contracts.diff import FieldChange, layer_diff
from contracts.models import InterfaceEntity, InterfaceLayer

from .conftest import as_yaml, small_contract

pytestmark = pytest.mark.django_db


def second_version() -> bytes:
    document = small_contract(version="1.1.0")
    customer = document["schema"][0]
    customer["description"] = "A person or household known to the brand."
    status = customer["properties"][2]
    status["quality"][0]["arguments"]["validValues"] = ["active", "lapsed", "churned"]
    customer["properties"][1]["required"] = True  # email becomes mandatory
    customer["properties"].append({"name": "phone", "logicalType": "string"})
    event = document["schema"][1]
    event["properties"] = [p for p in event["properties"] if p["name"] != "amount"]
    document["schema"].append(
        {"name": "campaign", "properties": [{"name": "campaign_id", "logicalType": "string"}]}
    )
    return as_yaml(document)


def test_nothing_is_published_until_someone_publishes(engagement, small_layer):
    assert small_layer.status == LayerStatus.DRAFT
    assert selectors.published_layer(engagement=engagement) is None
    assert selectors.published_entity_names(engagement=engagement) == []


def test_publishing_makes_the_layer_the_target_and_records_who(engagement, ba, small_layer):
    services.contract_publish(layer=small_layer, acting_user=ba)

    small_layer.refresh_from_db()
    assert small_layer.status == LayerStatus.PUBLISHED
    assert small_layer.published_by == ba
    assert selectors.published_layer(engagement=engagement) == small_layer
    assert selectors.published_entity_names(engagement=engagement) == ["customer", "email_event"]
    assert small_layer.history.first().history_user == ba


def test_publishing_a_new_version_supersedes_the_old_one(engagement, ba, small_layer):
    services.contract_publish(layer=small_layer, acting_user=ba)
    newer = services.contract_import(
        engagement=engagement, file_name="small.yaml", content=second_version(), acting_user=ba
    )

    services.contract_publish(layer=newer, acting_user=ba)

    small_layer.refresh_from_db()
    assert small_layer.status == LayerStatus.SUPERSEDED
    assert selectors.published_layer(engagement=engagement) == newer
    assert selectors.published_entity_names(engagement=engagement) == [
        "customer",
        "email_event",
        "campaign",
    ]


def test_the_database_refuses_two_published_versions(engagement, ba, small_layer):
    services.contract_publish(layer=small_layer, acting_user=ba)
    newer = services.contract_import(
        engagement=engagement, file_name="small.yaml", content=second_version(), acting_user=ba
    )
    newer.status = LayerStatus.PUBLISHED

    with pytest.raises(ValidationError) as exc:
        newer.full_clean()
    assert exc.value.messages == ["The engagement already has a published contract version."]
    with pytest.raises(IntegrityError), transaction.atomic():
        InterfaceLayer.objects.filter(pk=newer.pk).update(status=LayerStatus.PUBLISHED)


def test_a_published_version_cannot_be_published_again_or_discarded(engagement, ba, small_layer):
    services.contract_publish(layer=small_layer, acting_user=ba)

    with pytest.raises(ValidationError) as exc:
        services.contract_publish(layer=small_layer, acting_user=ba)
    assert exc.value.messages == ["A published contract version cannot become published."]
    with pytest.raises(ValidationError) as exc:
        services.contract_discard(layer=small_layer, acting_user=ba)
    assert exc.value.messages == [
        "Only a draft can be discarded; Small 360 1.0.0 is published and read-only."
    ]


def test_a_draft_can_be_discarded_with_its_contents(engagement, ba, small_layer):
    pk = small_layer.pk

    services.contract_discard(layer=small_layer, acting_user=ba)

    assert InterfaceLayer.objects.count() == 0
    assert InterfaceEntity.objects.count() == 0
    deleted = InterfaceLayer.history.filter(id=pk).first()
    assert (deleted.history_type, deleted.history_user) == ("-", ba)


def test_a_viewer_cannot_publish(engagement, viewer, small_layer):
    with pytest.raises(PermissionDenied):
        services.contract_publish(layer=small_layer, acting_user=viewer)


def test_the_diff_lists_added_removed_and_changed_with_the_fields(engagement, ba, small_layer):
    services.contract_publish(layer=small_layer, acting_user=ba)
    newer = services.contract_import(
        engagement=engagement, file_name="small.yaml", content=second_version(), acting_user=ba
    )

    diff = layer_diff(old=selectors.diff_base(layer=newer), new=newer)

    assert diff.entities_added == ["campaign"]
    assert diff.entities_removed == []
    assert [(c.entity, c.changes) for c in diff.entities_changed] == [
        (
            "customer",
            [
                FieldChange(
                    "description",
                    "A person known to the brand.",
                    "A person or household known to the brand.",
                )
            ],
        )
    ]
    assert diff.attributes_added == [("customer", "phone"), ("campaign", "campaign_id")]
    assert diff.attributes_removed == [("email_event", "amount")]
    assert [(c.entity, c.attribute, c.changes) for c in diff.attributes_changed] == [
        ("customer", "email", [FieldChange("required", False, True)]),
        (
            "customer",
            "status",
            [FieldChange("allowed_values", ["active", "lapsed"], ["active", "lapsed", "churned"])],
        ),
    ]
    assert diff.summary() == ("entities +1 -0 ~1; attributes +2 -1 ~2; relationships +0 -0")


def test_with_no_provider_no_mapping_is_affected(engagement, small_layer, no_mapping_provider):
    diff = layer_diff(old=None, new=small_layer)

    assert hooks.has_affected_mappings_provider() is False
    assert hooks.affected_mappings(engagement, diff) == []


def test_a_registered_provider_lists_the_affected_mappings(engagement, ba, small_layer):
    def provider(engagement_, diff):
        return [
            {"entity": c.entity, "attribute": c.attribute, "reason": ", ".join(c.fields)}
            for c in diff.attributes_changed
        ]

    services.contract_publish(layer=small_layer, acting_user=ba)
    newer = services.contract_import(
        engagement=engagement, file_name="small.yaml", content=second_version(), acting_user=ba
    )
    hooks.register_affected_mappings_provider(provider)
    try:
        items = hooks.affected_mappings(engagement, layer_diff(old=small_layer, new=newer))
    finally:
        hooks.unregister_affected_mappings_provider(provider)

    assert items == [
        {"entity": "customer", "attribute": "email", "reason": "required"},
        {"entity": "customer", "attribute": "status", "reason": "allowed_values"},
    ]
