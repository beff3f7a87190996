"""The contract pages: what a Tech BA sees and does, and what others may not."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts import hooks, services
from contracts.models import InterfaceLayer, InterfaceNote

from .conftest import as_yaml, small_contract
from .test_versions import second_version

pytestmark = pytest.mark.django_db


def url(name, engagement, *args):
    return reverse(name, args=[engagement.slug, *args])


READ_PAGES = [
    ("contract-overview", ()),
    ("contract-entity", ("customer",)),
    ("contract-mandatory", ()),
    ("contract-semantics", ()),
    ("contract-erd", ()),
]


@pytest.mark.parametrize("name,args", READ_PAGES)
def test_a_viewer_reads_every_contract_page(client, engagement, viewer, published_demo, name, args):
    client.force_login(viewer)

    response = client.get(url(name, engagement, *args))

    assert response.status_code == 200
    assert b"Marketing 360" in response.content


@pytest.mark.parametrize("name,args", READ_PAGES)
def test_an_outsider_gets_404_on_every_contract_page(
    client, engagement, outsider, published_demo, name, args
):
    client.force_login(outsider)

    assert client.get(url(name, engagement, *args)).status_code == 404


def test_the_overview_counts_mandatory_and_optional_per_entity(
    client, engagement, ba, published_demo
):
    client.force_login(ba)

    response = client.get(url("contract-overview", engagement))

    customer = next(e for e in response.context["entities"] if e.name == "customer")
    assert (customer.mandatory_count, customer.optional_count) == (6, 6)
    assert response.context["counts"] == {
        "entities": 5,
        "attributes": 43,
        "mandatory": 29,
        "optional": 14,
        "relationships": 4,
    }


def test_the_overview_without_a_contract_invites_an_import(client, engagement, ba):
    client.force_login(ba)

    response = client.get(url("contract-overview", engagement))

    assert b"No contract has been imported yet." in response.content
    assert url("contract-import", engagement).encode() in response.content


def test_the_entity_page_shows_types_keys_allowed_values_and_meanings(
    client, engagement, ba, published_demo
):
    client.force_login(ba)

    response = client.get(url("contract-entity", engagement, "email_event"))

    html = response.content.decode()
    assert "FK →" in html and "customer.customer_id" in html and "campaign.campaign_id" in html
    assert "complained" in html  # an allowed value of event_type
    assert "When the event happened according to the e-mail service provider" in html
    assert "VARCHAR(36)" in html and "PK 1" in html


def test_the_mandatory_page_splits_each_entity(client, engagement, ba, published_demo):
    client.force_login(ba)

    response = client.get(url("contract-mandatory", engagement))

    customer = response.context["groups"][0]
    assert [a.name for a in customer["mandatory"]] == [
        "customer_id", "source_customer_key", "lifecycle_stage", "email_opt_in", "created_at", "updated_at",
    ]  # fmt: skip
    assert [a.name for a in customer["optional"]][:2] == ["first_name", "last_name"]


def test_the_semantics_page_searches_meanings_and_answers_htmx_with_the_table(
    client, engagement, ba, published_demo
):
    client.force_login(ba)

    response = client.get(
        url("contract-semantics", engagement), {"q": "E.164"}, HTTP_HX_REQUEST="true"
    )

    assert [f"{a.entity.name}.{a.name}" for a in response.context["attributes"]] == [
        "customer.phone"
    ]
    assert response.content.decode().lstrip().startswith('<section id="semantics-table">')


def test_the_erd_page_delivers_nodes_and_edges_as_json(client, engagement, ba, published_demo):
    client.force_login(ba)

    response = client.get(url("contract-erd", engagement))

    html = response.content.decode()
    assert "vendor/cytoscape/cytoscape.min.js" in html
    assert "cdn" not in html.lower()
    data = json.loads(
        html.split('<script id="erd-data" type="application/json">')[1].split("</script>")[0]
    )
    assert [n["id"] for n in data["nodes"]] == [
        "customer", "customer_address", "subscription", "campaign", "email_event",
    ]  # fmt: skip
    assert sorted((e["source"], e["target"]) for e in data["edges"]) == [
        ("customer_address", "customer"),
        ("email_event", "campaign"),
        ("email_event", "customer"),
        ("subscription", "customer"),
    ]
    assert data["nodes"][0]["url"] == url("contract-entity", engagement, "customer")


def test_a_ba_imports_through_the_browser_form_and_lands_on_the_draft(
    client, engagement, ba, demo_bytes
):
    client.force_login(ba)

    response = client.post(
        url("contract-import", engagement),
        {"file": SimpleUploadedFile("marketing_360.odcs.yaml", demo_bytes)},
    )

    layer = InterfaceLayer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("contract-overview", engagement) + f"?version={layer.pk}"


def test_a_bad_file_in_the_form_shows_the_message_inline_and_saves_nothing(client, engagement, ba):
    client.force_login(ba)
    document = small_contract()
    document["schema"][0]["properties"][1]["logicalType"] = "text"

    response = client.post(
        url("contract-import", engagement),
        {"file": SimpleUploadedFile("small.yaml", as_yaml(document))},
    )

    assert response.status_code == 400
    assert (
        "small.yaml: schema[0].properties[1].logicalType: &#x27;text&#x27; is not allowed"
        in response.content.decode()
    )
    assert InterfaceLayer.objects.count() == 0


def test_a_viewer_may_not_import_and_gets_403(client, engagement, viewer, demo_bytes):
    client.force_login(viewer)

    assert client.get(url("contract-import", engagement)).status_code == 403
    response = client.post(
        url("contract-import", engagement), {"file": SimpleUploadedFile("m.yaml", demo_bytes)}
    )
    assert response.status_code == 403
    assert InterfaceLayer.objects.count() == 0


def test_a_second_version_leads_to_the_diff_page_then_an_explicit_publish(
    client, engagement, ba, small_layer, no_mapping_provider
):
    services.contract_publish(layer=small_layer, acting_user=ba)
    client.force_login(ba)

    response = client.post(
        url("contract-import", engagement),
        {"file": SimpleUploadedFile("small.yaml", second_version())},
    )
    newer = InterfaceLayer.objects.get(version="1.1.0")
    assert response["Location"] == url("contract-diff", engagement, newer.pk)

    page = client.get(response["Location"]).content.decode()
    assert "customer.phone" in page and "email_event.amount" in page
    assert "allowed values" in page and "churned" in page
    assert "Mappings do not exist yet" in page
    assert newer.status == "draft"

    client.post(url("contract-publish", engagement, newer.pk))
    newer.refresh_from_db()
    small_layer.refresh_from_db()
    assert (newer.status, small_layer.status) == ("published", "superseded")


def test_the_diff_page_lists_the_mappings_a_provider_reports(
    client, engagement, ba, small_layer, no_mapping_provider
):
    services.contract_publish(layer=small_layer, acting_user=ba)
    newer = services.contract_import(
        engagement=engagement, file_name="small.yaml", content=second_version(), acting_user=ba
    )

    def provider(engagement_, diff):
        return [{"entity": "customer", "attribute": "email", "reason": "now mandatory"}]

    hooks.register_affected_mappings_provider(provider)
    client.force_login(ba)
    try:
        page = client.get(url("contract-diff", engagement, newer.pk)).content.decode()
    finally:
        hooks.unregister_affected_mappings_provider(provider)

    assert "now mandatory" in page
    assert "Mappings do not exist yet" not in page


def test_the_diff_page_grades_each_change_and_shows_its_affected_mappings_beside_it(
    client, engagement, ba, viewer, small_layer, no_mapping_provider
):
    services.contract_publish(layer=small_layer, acting_user=ba)
    newer = services.contract_import(
        engagement=engagement, file_name="small.yaml", content=second_version(), acting_user=ba
    )

    def provider(engagement_, diff):
        return [{"entity": "email_event", "attribute": "amount", "reason": "removed upstream"}]

    hooks.register_affected_mappings_provider(provider)
    client.force_login(viewer)
    try:
        page = client.get(url("contract-diff", engagement, newer.pk)).content.decode()
    finally:
        hooks.unregister_affected_mappings_provider(provider)

    assert "breaks consumers" in page and "breaks the load" in page
    assert "breaking for consumers: 2; breaking for the load: 3; cannot tell: 0" in page
    row = page[page.index("<code>email_event.amount</code>") :].split("</tr>")[0]
    assert "removed" in row and "verdict-error" in row and "removed upstream" in row
    email = page[page.index("<code>customer.email</code>") :].split("</tr>")[0]
    assert "required" in email and "(tightens)" in email


def test_an_sme_cannot_publish_or_discard(client, engagement, sme, small_layer):
    client.force_login(sme)

    assert client.post(url("contract-publish", engagement, small_layer.pk)).status_code == 403
    assert client.post(url("contract-discard", engagement, small_layer.pk)).status_code == 403
    small_layer.refresh_from_db()
    assert small_layer.status == "draft"


def test_the_export_downloads_odcs_yaml(client, engagement, viewer, published_demo):
    client.force_login(viewer)

    response = client.get(url("contract-export", engagement, published_demo.pk))

    assert response["Content-Disposition"] == 'attachment; filename="marketing-360-100.odcs.yaml"'
    assert response.content.startswith(b"apiVersion: v3.1.0\nkind: DataContract\n")


def test_a_ba_writes_a_note_on_an_attribute_with_htmx(client, engagement, ba, published_demo):
    client.force_login(ba)

    response = client.post(
        url("contract-note-create", engagement),
        {
            "entity_name": "customer",
            "attribute_name": "email",
            "text": "Two e-mail columns in the Mart.",
        },
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "Two e-mail columns in the Mart." in response.content.decode()
    note = InterfaceNote.objects.get()
    assert (note.entity_name, note.attribute_name, note.author) == ("customer", "email", ba)
    assert note.history.get().history_user == ba


def test_a_note_on_a_missing_attribute_is_refused_inline(client, engagement, ba, published_demo):
    client.force_login(ba)

    response = client.post(
        url("contract-note-create", engagement),
        {"entity_name": "customer", "attribute_name": "shoe_size", "text": "?"},
        HTTP_HX_REQUEST="true",
    )

    assert (
        "The entity &#x27;customer&#x27; has no attribute &#x27;shoe_size&#x27;."
        in response.content.decode()
    )
    assert InterfaceNote.objects.count() == 0


def test_an_sme_may_not_write_notes(client, engagement, sme, published_demo):
    client.force_login(sme)

    response = client.post(
        url("contract-note-create", engagement), {"entity_name": "customer", "text": "Hi"}
    )

    assert response.status_code == 403
    assert InterfaceNote.objects.count() == 0


def test_only_the_author_deletes_a_note(client, engagement, ba, lead, published_demo):
    note = services.note_create(
        engagement=engagement, entity_name="customer", text="x", acting_user=ba
    )
    client.force_login(lead)
    assert (
        client.post(url("contract-note-edit", engagement, note.pk), {"delete": "1"}).status_code
        == 403
    )

    client.force_login(ba)
    client.post(url("contract-note-edit", engagement, note.pk), {"delete": "1"})

    assert InterfaceNote.objects.count() == 0


def test_the_phase_tracker_reports_the_contract_and_the_notes(engagement, ba, small_layer):
    from contracts.phases import contract_state, interface_notes_state
    from workbench.phases import OutputStatus

    draft = contract_state(engagement)
    services.contract_publish(layer=small_layer, acting_user=ba)
    services.note_create(engagement=engagement, entity_name="customer", text="x", acting_user=ba)

    assert (draft.status, draft.detail) == (OutputStatus.IN_PROGRESS, "draft 1.0.0 not published")
    assert (contract_state(engagement).status, contract_state(engagement).detail) == (
        OutputStatus.DONE,
        "Small 360 1.0.0 published",
    )
    one_entity = interface_notes_state(engagement)
    assert (one_entity.status, one_entity.detail) == (
        OutputStatus.IN_PROGRESS,
        "1 note; 1 of 2 entities noted",
    )
    assert contract_state(engagement).url == url("contract-overview", engagement)

    # A note on one of its attributes counts for the entity too.
    services.note_create(
        engagement=engagement,
        entity_name="email_event",
        attribute_name="amount",
        text="in the client's currency",
        acting_user=ba,
    )
    every_entity = interface_notes_state(engagement)
    assert (every_entity.status, every_entity.detail) == (
        OutputStatus.DONE,
        "2 notes; every entity noted",
    )


def test_an_older_version_can_be_browsed_and_another_engagements_cannot(
    client, engagement, ba, small_layer, outsider
):
    services.contract_publish(layer=small_layer, acting_user=ba)
    newer = services.contract_import(
        engagement=engagement, file_name="small.yaml", content=second_version(), acting_user=ba
    )
    services.contract_publish(layer=newer, acting_user=ba)
    other = InterfaceLayer.objects.create(
        engagement=outsider.memberships.get().engagement,
        name="Other",
        version="1",
        source_file_name="o.yaml",
        source_format="odcs_yaml",
        file_hash="0" * 64,
        imported_by=outsider,
    )
    client.force_login(ba)

    old_page = client.get(url("contract-overview", engagement), {"version": small_layer.pk})
    current = client.get(url("contract-overview", engagement))

    assert old_page.context["layer"] == small_layer
    assert [e.name for e in old_page.context["entities"]] == ["customer", "email_event"]
    assert current.context["layer"] == newer
    assert (
        client.get(url("contract-overview", engagement), {"version": other.pk}).status_code == 404
    )
    assert client.get(url("contract-diff", engagement, other.pk)).status_code == 404
