"""The contract API under /api/v1/: read for members, writes where the policy allows."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from contracts import hooks, services
from contracts.models import InterfaceLayer, InterfaceNote

from .conftest import as_yaml, small_contract
from .test_versions import second_version

pytestmark = pytest.mark.django_db

BASE = "/api/v1/engagements/acme-360/contract"


@pytest.fixture
def api():
    return APIClient()


def test_a_member_lists_layers_entities_and_attributes(api, viewer, published_demo):
    api.force_authenticate(viewer)

    layers = api.get(f"{BASE}/layers/").json()["results"]
    entities = api.get(f"{BASE}/entities/").json()["results"]
    attributes = api.get(f"{BASE}/attributes/", {"q": "E.164"}).json()["results"]

    assert [(layer["name"], layer["version"], layer["status"]) for layer in layers] == [
        ("Marketing 360", "1.0.0", "published")
    ]
    assert [(e["name"], e["mandatory_count"], e["optional_count"]) for e in entities][0] == (
        "customer",
        6,
        6,
    )
    assert [(a["entity_name"], a["name"], a["classification"]) for a in attributes] == [
        ("customer", "phone", "PII")
    ]


@pytest.mark.parametrize("layer", ["43731739099261431768416256", "newest", "-1"])
def test_a_layer_parameter_that_is_no_version_id_is_a_400_not_a_crash_or_a_guess(
    api, viewer, published_demo, layer
):
    """A 26-digit id used to overflow the database (a 500); a word silently listed the current
    layer."""
    api.force_authenticate(viewer)

    for kind in ("entities", "attributes"):
        answer = api.get(f"{BASE}/{kind}/", {"layer": layer})
        assert answer.status_code == 400
        assert answer.json() == {"layer": ["layer must be a layer version id (a whole number)."]}


def test_a_layer_parameter_names_the_version_listed(api, viewer, published_demo):
    api.force_authenticate(viewer)
    layer_id = api.get(f"{BASE}/layers/").json()["results"][0]["id"]

    assert api.get(f"{BASE}/entities/", {"layer": layer_id}).json()["count"] > 0
    assert api.get(f"{BASE}/entities/", {"layer": layer_id + 1000}).json()["count"] == 0


def test_an_attribute_shows_its_references(api, viewer, published_demo):
    api.force_authenticate(viewer)

    rows = api.get(f"{BASE}/attributes/", {"q": "campaign_id"}).json()["results"]

    event_fk = next(r for r in rows if r["entity_name"] == "email_event")
    assert event_fk["references"] == [
        {
            "entity": "campaign",
            "attribute": "campaign_id",
            "reference": "campaign.campaign_id",
            "external": False,
        }
    ]


def test_an_outsider_gets_404_everywhere(api, outsider, published_demo):
    api.force_authenticate(outsider)

    for path in ("layers/", "entities/", "attributes/", "notes/", f"layers/{published_demo.pk}/"):
        assert api.get(f"{BASE}/{path}").status_code == 404


def test_a_ba_imports_through_the_api(api, ba, demo_bytes):
    api.force_authenticate(ba)

    response = api.post(
        f"{BASE}/layers/",
        {"file": SimpleUploadedFile("marketing_360.odcs.yaml", demo_bytes)},
        format="multipart",
    )

    assert response.status_code == 201
    assert (response.json()["version"], response.json()["status"]) == ("1.0.0", "draft")


def test_a_bad_file_through_the_api_is_a_400_with_the_same_message(api, ba):
    api.force_authenticate(ba)
    document = small_contract()
    del document["schema"][0]["properties"][0]["name"]

    response = api.post(
        f"{BASE}/layers/",
        {"file": SimpleUploadedFile("small.yaml", as_yaml(document))},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": ["small.yaml: schema[0].properties[0].name: missing required key."]
    }
    assert InterfaceLayer.objects.count() == 0


def test_a_viewer_may_not_import_publish_or_discard(api, viewer, small_layer, demo_bytes):
    api.force_authenticate(viewer)

    response = api.post(
        f"{BASE}/layers/", {"file": SimpleUploadedFile("m.yaml", demo_bytes)}, format="multipart"
    )
    assert response.status_code == 403
    assert api.post(f"{BASE}/layers/{small_layer.pk}/publish/").status_code == 403
    assert api.delete(f"{BASE}/layers/{small_layer.pk}/").status_code == 403
    assert InterfaceLayer.objects.count() == 1


def test_publish_then_the_diff_of_a_new_version(
    api, ba, engagement, small_layer, no_mapping_provider
):
    api.force_authenticate(ba)
    assert api.post(f"{BASE}/layers/{small_layer.pk}/publish/").json()["status"] == "published"
    newer = services.contract_import(
        engagement=engagement, file_name="small.yaml", content=second_version(), acting_user=ba
    )

    diff = api.get(f"{BASE}/layers/{newer.pk}/diff/").json()

    assert diff["old_version"] == "1.0.0"
    assert diff["attributes_added"] == ["customer.phone", "campaign.campaign_id"]
    assert diff["attributes_changed"][0] == {
        "entity": "customer",
        "attribute": "email",
        "changes": [{"field": "required", "old": False, "new": True}],
    }
    assert (diff["affected_mappings"], diff["mappings_exist"]) == ([], False)
    assert (diff["breaking_for_consumers"], diff["breaking_for_load"]) == (True, True)
    graded = {c["subject"]: (c["action"], c["consumer"], c["producer"]) for c in diff["changes"]}
    assert graded["email_event.amount"] == ("removed", "error", "info")
    assert graded["customer.email"] == ("changed", "info", "error")
    assert graded["campaign.campaign_id"] == ("added", "info", "info")  # with its new entity


def test_the_diff_puts_each_affected_mapping_under_its_change(
    api, ba, viewer, engagement, small_layer, no_mapping_provider
):
    services.contract_publish(layer=small_layer, acting_user=ba)
    newer = services.contract_import(
        engagement=engagement, file_name="small.yaml", content=second_version(), acting_user=ba
    )

    def provider(engagement_, diff):
        return [{"entity": "customer", "attribute": "status", "reason": "allowed values changed"}]

    hooks.register_affected_mappings_provider(provider)
    api.force_authenticate(viewer)
    try:
        diff = api.get(f"{BASE}/layers/{newer.pk}/diff/").json()
    finally:
        hooks.unregister_affected_mappings_provider(provider)

    status = next(c for c in diff["changes"] if c["subject"] == "customer.status")
    assert status["fields"] == [
        {
            "field": "allowed_values",
            "old": ["active", "lapsed"],
            "new": ["active", "lapsed", "churned"],
            "direction": "loosens",
        }
    ]
    assert (status["verdict"], status["breaking"]) == ("breaks consumers", True)
    assert status["affected_mappings"] == [
        {"entity": "customer", "attribute": "status", "reason": "allowed values changed"}
    ]


def test_an_outsider_cannot_read_the_diff(api, ba, outsider, engagement, small_layer):
    services.contract_publish(layer=small_layer, acting_user=ba)
    api.force_authenticate(outsider)

    assert api.get(f"{BASE}/layers/{small_layer.pk}/diff/").status_code == 404
    api.force_authenticate(None)
    assert api.get(f"{BASE}/layers/{small_layer.pk}/diff/").status_code in (401, 403)


def test_a_published_layer_cannot_be_discarded_through_the_api(api, ba, small_layer):
    services.contract_publish(layer=small_layer, acting_user=ba)
    api.force_authenticate(ba)

    response = api.delete(f"{BASE}/layers/{small_layer.pk}/")

    assert response.status_code == 400
    assert response.json() == {
        "detail": ["Only a draft can be discarded; Small 360 1.0.0 is published and read-only."]
    }


def test_the_export_endpoint_returns_odcs_yaml(api, viewer, published_demo):
    api.force_authenticate(viewer)

    response = api.get(f"{BASE}/layers/{published_demo.pk}/export/")

    assert response.status_code == 200
    assert response.content.startswith(b"apiVersion: v3.1.0")


def test_notes_are_written_by_the_ba_and_read_by_everyone(api, ba, viewer, published_demo):
    api.force_authenticate(ba)
    created = api.post(
        f"{BASE}/notes/",
        {
            "entity_name": "campaign",
            "attribute_name": "channel",
            "text": "Mart has 'EM' for email.",
        },
        format="json",
    )
    assert created.status_code == 201
    note_id = created.json()["id"]
    assert (
        api.patch(
            f"{BASE}/notes/{note_id}/", {"text": "Mart: 'EM' = email."}, format="json"
        ).json()["text"]
        == "Mart: 'EM' = email."
    )

    api.force_authenticate(viewer)
    rows = api.get(f"{BASE}/notes/", {"entity_name": "campaign"}).json()["results"]
    assert [(r["attribute_name"], r["text"], r["author"]) for r in rows] == [
        ("channel", "Mart: 'EM' = email.", "ba")
    ]
    assert api.patch(f"{BASE}/notes/{note_id}/", {"text": "no"}, format="json").status_code == 403
    assert api.delete(f"{BASE}/notes/{note_id}/").status_code == 403

    api.force_authenticate(ba)
    assert api.delete(f"{BASE}/notes/{note_id}/").status_code == 204
    assert InterfaceNote.objects.count() == 0


def test_a_note_on_a_missing_entity_is_a_400(api, ba, published_demo):
    api.force_authenticate(ba)

    response = api.post(f"{BASE}/notes/", {"entity_name": "order", "text": "?"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"entity_name": ["The contract has no entity 'order'."]}


def test_an_sme_may_read_but_not_write_notes(api, sme, published_demo):
    api.force_authenticate(sme)

    assert api.get(f"{BASE}/notes/").status_code == 200
    response = api.post(f"{BASE}/notes/", {"entity_name": "customer", "text": "x"}, format="json")
    assert response.status_code == 403


def test_the_openapi_schema_documents_the_contract_endpoints(api, viewer):
    api.force_authenticate(viewer)

    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    for path in (
        "/api/v1/engagements/{engagement_slug}/contract/layers/",
        "/api/v1/engagements/{engagement_slug}/contract/layers/{id}/publish/",
        "/api/v1/engagements/{engagement_slug}/contract/layers/{id}/diff/",
        "/api/v1/engagements/{engagement_slug}/contract/entities/",
        "/api/v1/engagements/{engagement_slug}/contract/attributes/",
        "/api/v1/engagements/{engagement_slug}/contract/notes/{id}/",
    ):
        assert path in paths
    assert (
        "multipart/form-data"
        in paths["/api/v1/engagements/{engagement_slug}/contract/layers/"]["post"]["requestBody"][
            "content"
        ]
    )
