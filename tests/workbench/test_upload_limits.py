"""Oversized uploads: a contract, a workbook or a DDL file over its limit is refused with the size
and the limit named — by the page, the API and the command alike — and nothing is stored. A body
larger than any upload is answered 413 before Django reads it, and a sheet of more rows than one
import reads is refused instead of holding a worker."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import SourceSystem
from catalog.services.ddl_import import catalog_import_csv
from contracts.importers.spreadsheet import SPREADSHEET_HEADER
from contracts.models import InterfaceLayer
from contracts.services import contract_import
from exports.models import SpecImport
from exports.services.spec import spec_import_preview
from exports.spec import layout
from tests.contracts.conftest import small_contract

pytestmark = pytest.mark.django_db

API = "/api/v1/engagements/acme-360"
KB = 1024


@pytest.fixture
def small_limits(settings):
    """Limits of a few kilobytes, so the stories need no large files."""
    settings.WORKBENCH_UPLOAD_LIMITS_MB = {"contract": 0.01, "workbook": 0.02, "ddl": 0.01}
    settings.WORKBENCH_MAX_SHEET_ROWS = 50


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def padded_yaml(size: int) -> bytes:
    """A valid-looking ODCS file padded with a comment to `size` bytes."""
    body = b"apiVersion: v3.0.2\nkind: DataContract\n"
    return body + b"#" + b"x" * (size - len(body) - 2) + b"\n"


def test_a_contract_over_its_limit_is_refused_by_the_api_naming_size_and_limit(
    small_limits, engagement, ba
):
    response = api_as(ba).post(
        f"{API}/contract/layers/",
        {"file": SimpleUploadedFile("big.yaml", padded_yaml(20 * KB))},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["file"] == [
        "The contract file is 20 KB; the limit is 10 KB (WORKBENCH_MAX_CONTRACT_MB)."
    ]
    assert InterfaceLayer.objects.count() == 0


def test_a_contract_over_its_limit_is_refused_on_the_page(small_limits, client, engagement, ba):
    client.force_login(ba)

    response = client.post(
        reverse("contract-import", args=[engagement.slug]),
        {"file": SimpleUploadedFile("big.yaml", padded_yaml(20 * KB))},
    )

    assert response.status_code == 400  # the form again, with the reason under the field
    assert "the limit is 10 KB (WORKBENCH_MAX_CONTRACT_MB)" in response.content.decode()
    assert InterfaceLayer.objects.count() == 0


def test_a_contract_over_its_limit_is_refused_by_the_command(
    small_limits, engagement, ba, tmp_path
):
    path = tmp_path / "big.yaml"
    path.write_bytes(padded_yaml(20 * KB))

    with pytest.raises(CommandError, match=r"limit is 10 KB \(WORKBENCH_MAX_CONTRACT_MB\)"):
        call_command("import_contract", str(path), engagement=engagement.slug, as_user="ba")
    assert InterfaceLayer.objects.count() == 0


def test_a_workbook_over_its_limit_is_refused_by_api_and_page(small_limits, client, engagement, ba):
    content = b"PK" + b"\0" * (40 * KB)

    by_api = api_as(ba).post(
        f"{API}/spec-imports/",
        {"file": SimpleUploadedFile("spec.xlsx", content)},
        format="multipart",
    )
    client.force_login(ba)
    by_page = client.post(
        reverse("spec-import", args=[engagement.slug]),
        {"file": SimpleUploadedFile("spec.xlsx", content)},
    )

    assert by_api.status_code == 400
    assert by_api.json()["file"] == [
        "The workbook is 40 KB; the limit is 20 KB (WORKBENCH_MAX_WORKBOOK_MB)."
    ]
    assert "(WORKBENCH_MAX_WORKBOOK_MB)" in by_page.content.decode()
    assert SpecImport.objects.count() == 0


def test_a_ddl_file_over_its_limit_is_refused_by_api_and_page(small_limits, client, engagement, ba):
    ddl = b"CREATE TABLE t (id INT);\n" * 1000  # 25 KB

    by_api = api_as(ba).post(
        f"{API}/sources/import/",
        {"source_name": "From DDL", "format": "ddl", "file": SimpleUploadedFile("m.sql", ddl)},
        format="multipart",
    )
    client.force_login(ba)
    by_page = client.post(
        reverse("catalog-import", args=[engagement.slug]),
        {
            "source_name": "From DDL",
            "format": "ddl",
            "dialect": "",
            "file": SimpleUploadedFile("m.sql", ddl),
        },
        follow=True,
    )

    assert by_api.status_code == 400
    assert by_api.json()["file"] == [
        "The DDL or column list is 24 KB; the limit is 10 KB (WORKBENCH_MAX_DDL_MB)."
    ]
    assert "(WORKBENCH_MAX_DDL_MB)" in by_page.content.decode()
    assert SourceSystem.objects.count() == 0


def test_a_body_larger_than_any_upload_is_answered_413_before_it_is_read(
    small_limits, client, engagement, ba
):
    api_client = api_as(ba)
    # The Content-Length alone decides: the body is never read, so the test sends a small one.
    huge = {"CONTENT_LENGTH": str(2 * 1024 * 1024)}

    by_api = api_client.post(
        f"{API}/contract/layers/", data=b"x", content_type="text/plain", **huge
    )
    client.force_login(ba)
    by_page = client.post(
        reverse("contract-import", args=[engagement.slug]),
        data=b"x",
        content_type="text/plain",
        **huge,
    )

    assert by_api.status_code == 413
    assert by_api.json() == {"detail": "The request is 2.0 MB; uploads are limited to 20 KB."}
    assert by_page.status_code == 413
    assert InterfaceLayer.objects.count() == 0


def test_a_workbook_sheet_past_the_row_limit_is_refused_with_the_sheet_named(
    small_limits, settings, engagement, ba
):
    settings.WORKBENCH_UPLOAD_LIMITS_MB = {"contract": 1, "workbook": 5, "ddl": 1}
    book = openpyxl.Workbook()
    book.active.title = layout.COVER
    entities = book.create_sheet(layout.ENTITIES)
    entities.append(layout.ENTITY_HEADER)
    mapping = book.create_sheet(layout.MAPPING)
    mapping.append(layout.MAPPING_HEADER)
    for number in range(60):  # ten past the limit of 50
        mapping.append(["customer", f"attribute_{number}"])
    buffer = io.BytesIO()
    book.save(buffer)

    with pytest.raises(ValidationError) as refusal:
        spec_import_preview(
            engagement=engagement,
            file_name="long.xlsx",
            content=buffer.getvalue(),
            acting_user=ba,
        )

    assert (
        "Sheet Mapping has more than 50 rows, the most one import reads "
        "(WORKBENCH_MAX_SHEET_ROWS); split the file."
    ) in refusal.value.messages
    assert SpecImport.objects.count() == 0


def test_a_contract_attribute_list_past_the_row_limit_is_refused(
    small_limits, settings, engagement, ba
):
    settings.WORKBENCH_UPLOAD_LIMITS_MB = {"contract": 1, "workbook": 1, "ddl": 1}
    rows = small_contract_rows(60)

    with pytest.raises(ValidationError) as refusal:
        contract_import(engagement=engagement, file_name="list.csv", content=rows, acting_user=ba)

    assert refusal.value.messages == [
        "list.csv: Sheet list.csv has more than 50 rows, the most one import reads "
        "(WORKBENCH_MAX_SHEET_ROWS); split the file."
    ]
    assert InterfaceLayer.objects.count() == 0


def test_a_catalog_column_list_past_the_row_limit_is_refused(
    small_limits, settings, engagement, ba
):
    settings.WORKBENCH_UPLOAD_LIMITS_MB = {"contract": 1, "workbook": 1, "ddl": 1}
    text = "Schema,Table,Column,Data Type,Nullable,Primary Key,References,Description\n" + "".join(
        f",t,c{number},TEXT,Y,N,,\n" for number in range(60)
    )

    with pytest.raises(ValidationError) as refusal:
        catalog_import_csv(engagement=engagement, source_name="Cols", text=text, acting_user=ba)

    assert refusal.value.message_dict["file"] == [
        "Sheet 1 (the column list) has more than 50 rows, the most one import reads "
        "(WORKBENCH_MAX_SHEET_ROWS); split the file."
    ]
    assert SourceSystem.objects.count() == 0


def small_contract_rows(count: int) -> bytes:
    """A contract attribute list (the spreadsheet import's header) with `count` attributes."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SPREADSHEET_HEADER)
    for number in range(count):
        writer.writerow(
            ["customer", f"attribute_{number}", "string"] + [""] * (len(SPREADSHEET_HEADER) - 3)
        )
    return out.getvalue().encode()


def test_files_within_the_limits_still_import(engagement, ba):
    """The default limits leave room for real files: the demo-sized contract imports."""
    layer = contract_import(
        engagement=engagement,
        file_name="small.yaml",
        content=small_contract_bytes(),
        acting_user=ba,
    )
    assert layer.pk is not None


def small_contract_bytes() -> bytes:
    return yaml.safe_dump(small_contract()).encode()
