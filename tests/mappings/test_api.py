"""The mapping API: stale versions answer 409 with the current row; every endpoint has its
forbidden cases (outsiders 404, roles without the right 403)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from mappings.models import AttributeMapping, MappingComment

from .conftest import attribute

BASE = "/api/v1/engagements/acme-360"


@pytest.fixture
def api():
    def as_user(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return as_user


def test_listing_and_filtering_attribute_mappings(api, customer, viewer):
    response = api(viewer).get(f"{BASE}/attribute-mappings/", {"entity_mapping": customer.pk})
    assert response.json()["count"] == 12
    names = {m["attribute_name"] for m in response.json()["results"]}
    assert "email" in names


def test_patch_with_the_current_version_saves(api, customer, ba):
    email = attribute(customer, "email")
    response = api(ba).patch(
        f"{BASE}/attribute-mappings/{email.pk}/",
        {"row_version": 1, "transformation": "LOWER(c.email)"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["lineage"] == ["c.email"]
    assert response.json()["row_version"] == 2


def test_two_people_editing_the_same_row_get_a_conflict_not_a_lost_update(api, customer, ba, lead):
    from workbench.choices import Role

    from ..factories import member

    other_ba = member(customer.engagement, Role.TECH_BA, "ba2")
    email = attribute(customer, "email")
    first = api(ba).patch(
        f"{BASE}/attribute-mappings/{email.pk}/",
        {"row_version": 1, "source_columns": "c.email"},
        format="json",
    )
    second = api(other_ba).patch(
        f"{BASE}/attribute-mappings/{email.pk}/",
        {"row_version": 1, "transformation": "UPPER(c.email)"},
        format="json",
    )
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["current"]["source_columns"] == "c.email"
    assert "since you opened it (now version 2)" in second.json()["detail"]
    email.refresh_from_db()
    assert (email.source_columns, email.transformation) == ("c.email", "")


def test_a_bad_rule_is_a_400_naming_the_place(api, customer, ba):
    email = attribute(customer, "email")
    response = api(ba).patch(
        f"{BASE}/attribute-mappings/{email.pk}/",
        {"row_version": 1, "transformation": "c.email; DELETE FROM x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "transformation": [
            "Only one expression is allowed: remove the ';' and anything after it. (line 1, column 8)"
        ]
    }


def test_a_missing_row_version_is_a_400(api, customer, ba):
    email = attribute(customer, "email")
    response = api(ba).patch(
        f"{BASE}/attribute-mappings/{email.pk}/", {"source_columns": "c.email"}, format="json"
    )
    assert response.status_code == 400
    assert "row_version" in response.json()


def test_validate_without_saving(api, customer, viewer):
    email = attribute(customer, "email")
    response = api(viewer).post(
        f"{BASE}/attribute-mappings/{email.pk}/validate/",
        {"transformation": "CAST(c.birth_date AS DATE)"},
        format="json",
    )
    assert response.json()["valid"] is True
    assert response.json()["inferred_type"] == "DATE"
    bad = api(viewer).post(
        f"{BASE}/attribute-mappings/{email.pk}/validate/",
        {"transformation": "(SELECT 1)"},
        format="json",
    )
    assert bad.json()["valid"] is False
    email.refresh_from_db()
    assert email.transformation == ""


def test_suggestions_endpoint(api, customer, viewer):
    email = attribute(customer, "email")
    response = api(viewer).get(f"{BASE}/attribute-mappings/{email.pk}/suggestions/")
    assert response.json()[0]["reference"] == "c.email"
    assert response.json()[0]["reasons"]


def test_entity_patch_and_conflict(api, customer, ba):
    response = api(ba).patch(
        f"{BASE}/entity-mappings/{customer.pk}/",
        {"row_version": customer.row_version, "frequency": "weekly"},
        format="json",
    )
    assert response.status_code == 200
    stale = api(ba).patch(
        f"{BASE}/entity-mappings/{customer.pk}/",
        {"row_version": customer.row_version, "frequency": "daily"},
        format="json",
    )
    assert stale.status_code == 409


def test_feasibility_review_comments_and_gap(api, customer, etl_dev, sme, ba, viewer):
    phone = attribute(customer, "phone")
    assert (
        api(etl_dev)
        .post(
            f"{BASE}/attribute-mappings/{phone.pk}/feasibility/",
            {"verdict": "feasible"},
            format="json",
        )
        .status_code
        == 200
    )
    assert (
        api(sme)
        .post(f"{BASE}/attribute-mappings/{phone.pk}/review/", {"state": "agreed"}, format="json")
        .status_code
        == 200
    )
    created = api(ba).post(
        f"{BASE}/mapping-comments/",
        {"attribute_mapping": phone.pk, "text": "@sme ok?"},
        format="json",
    )
    assert created.status_code == 201 and created.json()["mentions"] == ["sme"]
    assert (
        api(sme).post(f"{BASE}/mapping-comments/{created.json()['id']}/resolve/").status_code == 200
    )
    gap = api(viewer).get(f"{BASE}/gap/", {"severity": "high"}).json()
    assert gap and {g["severity"] for g in gap} == {"high"}


WRITES = [
    ("patch", "attribute-mappings/{a}/", {"row_version": 1, "source_columns": "c.email"}, "ba"),
    ("patch", "entity-mappings/{e}/", {"row_version": 2, "frequency": "weekly"}, "ba"),
    ("post", "entity-mappings/prepare/", {}, "ba"),
    ("post", "attribute-mappings/{a}/feasibility/", {"verdict": "feasible"}, "etl_dev"),
    ("post", "entity-mappings/{e}/feasibility/", {"verdict": "feasible"}, "etl_dev"),
    ("post", "attribute-mappings/{a}/review/", {"state": "agreed"}, "sme"),
    ("post", "mapping-comments/", {"entity_mapping": "{e}", "text": "hi"}, "ba"),
]
READS = [
    "attribute-mappings/",
    "attribute-mappings/{a}/",
    "entity-mappings/",
    "entity-mappings/{e}/",
    "mapping-comments/",
    "gap/",
    "attribute-mappings/{a}/suggestions/",
]


def _fill(text, customer):
    email = attribute(customer, "email")
    return text.format(a=email.pk, e=customer.pk) if isinstance(text, str) else text


@pytest.mark.parametrize(("method", "path", "payload", "_allowed"), WRITES)
def test_viewers_cannot_write(api, customer, viewer, method, path, payload, _allowed):
    payload = {k: _fill(v, customer) for k, v in payload.items()}
    before = list(AttributeMapping.objects.values_list("row_version", "feasibility", "sme_review"))
    response = getattr(api(viewer), method)(
        f"{BASE}/{_fill(path, customer)}", payload, format="json"
    )
    assert response.status_code == 403
    assert (
        list(AttributeMapping.objects.values_list("row_version", "feasibility", "sme_review"))
        == before
    )
    assert not MappingComment.objects.exists()


@pytest.mark.parametrize("path", READS + [w[1] for w in WRITES])
def test_outsiders_get_not_found(api, customer, outsider, path):
    response = api(outsider).get(f"{BASE}/{_fill(path, customer)}")
    assert response.status_code in (404, 405)
    if response.status_code == 405:  # a POST-only action: the write is hidden too
        assert (
            api(outsider).post(f"{BASE}/{_fill(path, customer)}", {}, format="json").status_code
            == 404
        )
