"""The sign-off API under /api/v1/engagements/<slug>/signoff/: the three gates walked through the
API, workflow moves as actions, refusals as 400 with the message, 403 for the wrong person, 404
for outsiders — for every endpoint."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from signoff import services
from signoff.choices import Gate
from signoff.models import Decision, ReviewRequest, SpecVersion, UatItem
from workbench.choices import EngagementStatus

pytestmark = pytest.mark.django_db

BASE = "/api/v1/engagements/acme-360/signoff"


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_three_gates_walked_through_the_api(ready, ba, sme, ops, etl, lead):
    # Mapping gate: the BA submits, the SME approves version 1 and its hash
    response = as_user(ba).post(f"{BASE}/reviews/", {"gate": "mapping"}, format="json")
    assert response.status_code == 201, response.content
    review = response.json()
    assert (review["version"], review["state"]) == (1, "requested")
    approved = as_user(sme).post(
        f"{BASE}/reviews/{review['id']}/approve/", {"comment": "Agreed"}, format="json"
    )
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["state"] == "approved"
    assert body["decisions"][0]["content_hash"] == review["content_hash"]
    assert body["decisions"][0]["decided_by"] == "sme"

    # UAT gate: feedback raised and resolved, then the ETL owner signs off version 1
    uat = as_user(ba).post(f"{BASE}/reviews/", {"gate": "uat", "version": 1}, format="json").json()
    item = (
        as_user(sme)
        .post(
            f"{BASE}/uat-items/",
            {"entity_name": "customer", "classification": "etl_fix", "description": "Spaces"},
            format="json",
        )
        .json()
    )
    refused = as_user(ops).post(f"{BASE}/reviews/{uat['id']}/approve/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": [f"UAT sign-off is refused while 1 UAT item is open: #{item['id']}."]
    }
    resolved = as_user(ba).post(
        f"{BASE}/uat-items/{item['id']}/resolve/", {"resolution": "Trimmed"}, format="json"
    )
    assert resolved.json()["state"] == "resolved"
    assert as_user(ops).post(f"{BASE}/reviews/{uat['id']}/approve/", {}).status_code == 200

    # Cutover gate: the lead approves, the checklist is ticked, the engagement goes live
    cut = as_user(ba).post(f"{BASE}/reviews/", {"gate": "cutover"}, format="json").json()
    assert as_user(lead).post(f"{BASE}/reviews/{cut['id']}/approve/", {}).status_code == 200
    as_user(etl).post(f"{BASE}/cutover/tick/", {"step": "pipelines_deployed"}, format="json")
    as_user(etl).post(
        f"{BASE}/cutover/tick/",
        {"step": "first_run_validated", "link": "https://ci.acme.example/runs/7"},
        format="json",
    )
    final = as_user(ops).post(
        f"{BASE}/cutover/tick/", {"step": "schedule_confirmed"}, format="json"
    )
    assert final.status_code == 200, final.content
    assert final.json()["engagement_status"] == EngagementStatus.IN_PRODUCTION
    assert [s["ticked_by"] for s in final.json()["steps"]] == ["etl", "etl", "ops"]

    # The sign-off table and the audit trail tell the story
    table = as_user(ops).get(f"{BASE}/versions/signoff-table/").json()
    assert [(r["gate"], r["approver_username"], r["changed_since"]) for r in table] == [
        ("mapping", "sme", False),
        ("uat", "ops", False),
        ("cutover", lead.username, False),
    ]
    audit = as_user(ops).get(f"{BASE}/audit/", {"gate": "cutover", "actor": "ops"}).json()
    assert [e["kind"] for e in audit["results"]] == ["in_production", "cutover_ticked"]


def test_versions_detail_diff_and_changed_since(ready, ba):
    services.do_submit_version(engagement=ready, acting_user=ba)
    client = as_user(ba)
    listing = client.get(f"{BASE}/versions/").json()["results"]
    assert [v["number"] for v in listing] == [1]
    assert "snapshot" not in listing[0]
    detail = client.get(f"{BASE}/versions/1/").json()
    assert "customer" in detail["snapshot"]["entities"]
    assert client.get(f"{BASE}/versions/1/diff/").json() == []
    assert client.get(f"{BASE}/versions/1/diff/", {"against": "5"}).status_code == 404
    changed = client.get(f"{BASE}/versions/changed-since-signoff/").json()
    assert changed == {"changed": False, "entities": {}, "attributes": []}
    frozen = client.post(f"{BASE}/versions/", {"entities": ["campaign"]}, format="json")
    assert frozen.status_code == 201
    assert frozen.json()["entities"] == ["campaign"]


def test_refusals_are_400_with_the_message_and_change_nothing(ready, ba, sme):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    rejected = as_user(sme).post(f"{BASE}/reviews/{review.pk}/reject/", {}, format="json")
    assert rejected.status_code == 400
    assert rejected.json() == {
        "comment": ["Say what needs to change: a rejection needs a comment."]
    }
    bad_gate = as_user(ba).post(f"{BASE}/reviews/", {"gate": "party"}, format="json")
    assert bad_gate.status_code == 400
    assert bad_gate.json() == {"gate": ['"party" is not a valid choice.']}
    unknown = as_user(ba).post(
        f"{BASE}/reviews/", {"gate": "mapping", "entities": ["planet"]}, format="json"
    )
    assert unknown.json() == {"entities": ["Not an entity of the mapping: planet."]}
    assert as_user(sme).post(f"{BASE}/reviews/{review.pk}/approve/", {}).status_code == 200
    twice = as_user(sme).post(f"{BASE}/reviews/{review.pk}/approve/", {})
    assert twice.status_code == 400
    assert twice.json() == {"detail": ["Version 1 is already approved for the Mapping sign-off."]}
    assert Decision.objects.count() == 1


def test_the_wrong_person_gets_403(ready, ba, sme, other_sme, viewer, etl, ops):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    item = services.do_raise_uat_item(
        engagement=ready,
        data={"entity_name": "customer", "classification": "etl_fix", "description": "x"},
        acting_user=sme,
    )
    forbidden = [
        (viewer, f"{BASE}/reviews/", {"gate": "mapping"}),
        (viewer, f"{BASE}/versions/", {}),
        (other_sme, f"{BASE}/reviews/{review.pk}/approve/", {}),
        (viewer, f"{BASE}/reviews/{review.pk}/approve/", {}),
        (ba, f"{BASE}/reviews/{review.pk}/approve/", {}),
        (other_sme, f"{BASE}/reviews/{review.pk}/reject/", {"comment": "no"}),
        (other_sme, f"{BASE}/reviews/{review.pk}/start/", {}),
        (sme, f"{BASE}/reviews/{review.pk}/cancel/", {}),
        (viewer, f"{BASE}/uat-items/", {"entity_name": "customer"}),
        (ops, f"{BASE}/uat-items/{item.pk}/resolve/", {"resolution": "x"}),
        (viewer, f"{BASE}/uat-items/{item.pk}/reopen/", {}),
        (viewer, f"{BASE}/cutover/tick/", {"step": "pipelines_deployed"}),
        (etl, f"{BASE}/cutover/tick/", {"step": "schedule_confirmed"}),
        (viewer, f"{BASE}/cutover/untick/", {"step": "pipelines_deployed"}),
    ]
    for user, path, data in forbidden:
        response = as_user(user).post(path, data, format="json")
        assert response.status_code == 403, (user, path, response.content)
    review.refresh_from_db()
    assert review.state == "requested"
    assert SpecVersion.objects.count() == 1 and UatItem.objects.count() == 1


def test_outsiders_get_404_everywhere(ready, ba, sme, outsider):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    item = services.do_raise_uat_item(
        engagement=ready,
        data={"entity_name": "customer", "classification": "etl_fix", "description": "x"},
        acting_user=sme,
    )
    client = as_user(outsider)
    for path in [
        f"{BASE}/versions/",
        f"{BASE}/versions/1/",
        f"{BASE}/versions/1/diff/",
        f"{BASE}/versions/changed-since-signoff/",
        f"{BASE}/versions/signoff-table/",
        f"{BASE}/reviews/",
        f"{BASE}/reviews/{review.pk}/",
        f"{BASE}/uat-items/",
        f"{BASE}/uat-items/{item.pk}/",
        f"{BASE}/cutover/",
        f"{BASE}/audit/",
        f"{BASE}/notifications/",
    ]:
        assert client.get(path).status_code == 404, path
    for path in [
        f"{BASE}/reviews/",
        f"{BASE}/versions/",
        f"{BASE}/reviews/{review.pk}/approve/",
        f"{BASE}/reviews/{review.pk}/reject/",
        f"{BASE}/reviews/{review.pk}/start/",
        f"{BASE}/reviews/{review.pk}/cancel/",
        f"{BASE}/uat-items/",
        f"{BASE}/uat-items/{item.pk}/resolve/",
        f"{BASE}/uat-items/{item.pk}/reopen/",
        f"{BASE}/cutover/tick/",
        f"{BASE}/cutover/untick/",
        f"{BASE}/notifications/read-all/",
    ]:
        assert client.post(path, {}, format="json").status_code == 404, path
    assert APIClient().get(f"{BASE}/reviews/").status_code == 401
    assert ReviewRequest.objects.count() == 1


def test_notifications_are_the_users_own(ready, ba, sme, other_sme):
    services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    mine = as_user(sme).get(f"{BASE}/notifications/").json()["results"]
    assert [n["kind"] for n in mine] == ["review_requested"]
    assert as_user(other_sme).get(f"{BASE}/notifications/").json()["results"] == []
    assert as_user(other_sme).post(f"{BASE}/notifications/{mine[0]['id']}/read/").status_code == 404
    read = as_user(sme).post(f"{BASE}/notifications/{mine[0]['id']}/read/")
    assert read.json()["read_at"] is not None
    assert as_user(sme).post(f"{BASE}/notifications/read-all/").json() == {"marked": 0}
