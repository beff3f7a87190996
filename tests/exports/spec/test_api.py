"""The specification API: the workbook, and imports (upload → preview → apply or cancel), with
400 for bad workbooks, 403 for members without the right and 404 for outsiders."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from exports.models import SpecImport
from mappings.models import AttributeMapping

from .conftest import edit, export_bytes, open_workbook, save

pytestmark = pytest.mark.django_db
BASE = "/api/v1/engagements/acme-360"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def workbook_file(content: bytes, name="edited.xlsx"):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def edited(engagement, user) -> bytes:
    workbook = open_workbook(export_bytes(engagement, user))
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")
    return save(workbook)


def test_a_member_downloads_the_workbook(mapped, viewer):
    response = api(viewer).get(f"{BASE}/spec/workbook/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames[3] == "Mapping"


def test_upload_preview_then_apply(mapped, ba):
    client = api(ba)

    created = client.post(
        f"{BASE}/spec-imports/", {"file": workbook_file(edited(mapped, ba))}, format="multipart"
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["state"], body["change_count"], body["conflict_count"]) == ("previewed", 1, 0)
    assert body["preview"]["changes"][0]["fields"] == [
        {"column": "Transformation", "before": "LOWER(TRIM(c.email))", "after": "LOWER(c.email)"}
    ]
    applied = client.post(f"{BASE}/spec-imports/{body['id']}/apply/")
    assert applied.status_code == 200
    assert (applied.json()["state"], applied.json()["applied_count"]) == ("applied", 1)
    assert (
        AttributeMapping.objects.get(
            engagement=mapped, entity_mapping__entity_name="customer", attribute_name="email"
        ).transformation
        == "LOWER(c.email)"
    )
    again = client.post(f"{BASE}/spec-imports/{body['id']}/apply/")
    assert again.status_code == 400
    assert again.json() == {
        "detail": ["This import is already applied; upload the workbook again to import it."]
    }
    listed = client.get(f"{BASE}/spec-imports/").json()
    assert [i["id"] for i in listed["results"]] == [body["id"]]


def test_a_bad_workbook_is_a_400_naming_the_place(mapped, ba):
    workbook = open_workbook(export_bytes(mapped, ba))
    workbook["Mapping"]["H1"] = "Transform"

    response = api(ba).post(
        f"{BASE}/spec-imports/", {"file": workbook_file(save(workbook))}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["file"] == [
        "Sheet Mapping, row 1, column H: the header must be 'Transformation', not 'Transform'. "
        "Keep the header row of the exported specification."
    ]
    assert SpecImport.objects.count() == 0


def test_a_viewer_may_not_import_apply_or_cancel(mapped, ba, viewer):
    created = api(ba).post(
        f"{BASE}/spec-imports/", {"file": workbook_file(edited(mapped, ba))}, format="multipart"
    )
    pk = created.json()["id"]
    client = api(viewer)

    upload = client.post(f"{BASE}/spec-imports/", {"file": workbook_file(b"x")}, format="multipart")
    assert upload.status_code == 403
    assert client.post(f"{BASE}/spec-imports/{pk}/apply/").status_code == 403
    assert client.post(f"{BASE}/spec-imports/{pk}/cancel/").status_code == 403
    assert client.get(f"{BASE}/spec-imports/{pk}/").status_code == 200


def test_outsiders_get_404_everywhere(mapped, ba, outsider):
    created = api(ba).post(
        f"{BASE}/spec-imports/", {"file": workbook_file(edited(mapped, ba))}, format="multipart"
    )
    pk = created.json()["id"]
    client = api(outsider)

    assert client.get(f"{BASE}/spec/workbook/").status_code == 404
    assert client.get(f"{BASE}/spec-imports/").status_code == 404
    assert client.get(f"{BASE}/spec-imports/{pk}/").status_code == 404
    assert client.post(f"{BASE}/spec-imports/{pk}/apply/").status_code == 404
    assert client.post(f"{BASE}/spec-imports/{pk}/cancel/").status_code == 404
    upload = client.post(f"{BASE}/spec-imports/", {"file": workbook_file(b"x")}, format="multipart")
    assert upload.status_code == 404


def test_cancel_through_the_api(mapped, ba):
    created = api(ba).post(
        f"{BASE}/spec-imports/", {"file": workbook_file(edited(mapped, ba))}, format="multipart"
    )

    cancelled = api(ba).post(f"{BASE}/spec-imports/{created.json()['id']}/cancel/")

    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
