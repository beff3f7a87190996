"""The deliverables pages: export, import with its preview and accept/cancel, the export job,
the GAP document and the KT site — each with its forbidden cases and a pinned query count."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exports.models import SpecImport
from mappings.models import AttributeMapping
from mappings.selectors.gap import gap_items
from workbench.models import Job

from .conftest import edit, export_bytes, open_workbook, save

pytestmark = pytest.mark.django_db
SLUG = "acme-360"


def url(name, *args):
    return reverse(name, args=[SLUG, *args])


def login(client, user):
    # django-axes needs a request to check a password; the password is not the subject here
    client.force_login(user)
    return client


def upload(content: bytes, name="edited.xlsx"):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def edited_workbook(engagement, user) -> bytes:
    workbook = open_workbook(export_bytes(engagement, user))
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")
    return save(workbook)


READ_PAGES = [
    ("spec-home", ()),
    ("spec-download", ()),
    ("spec-import", ()),
    ("gap-document-xlsx", ()),
    ("kt-index", ()),
    ("kt-mapping", ()),
    ("kt-troubleshooting", ()),
    ("kt-entity", ("customer",)),
    ("kt-download", ()),
]


@pytest.mark.parametrize(("name", "args"), READ_PAGES)
def test_every_member_reads_the_deliverables_and_outsiders_get_404(
    client, mapped, viewer, outsider, name, args
):
    assert login(client, viewer).get(url(name, *args)).status_code == 200
    client.logout()
    assert login(client, outsider).get(url(name, *args)).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, mapped):
    response = client.get(url("spec-home"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_ba_exports_edits_and_accepts_an_import_through_the_pages(client, mapped, ba):
    login(client, ba)
    downloaded = client.get(url("spec-download"))
    assert downloaded["Content-Type"].startswith("application/vnd.openxmlformats")
    assert downloaded["Content-Disposition"].startswith(
        'attachment; filename="acme-360-mapping-specification-'
    )
    workbook = openpyxl.load_workbook(io.BytesIO(downloaded.content))
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")

    response = client.post(url("spec-import"), {"file": upload(save(workbook))})

    spec_import = SpecImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("spec-import-detail", spec_import.pk)
    page = client.get(response["Location"]).content.decode()
    assert "customer.email" in page and "LOWER(TRIM(c.email))" in page
    assert "Accept and apply" in page

    applied = client.post(url("spec-import-apply", spec_import.pk), follow=True)

    assert "Applied 1 changes (0 conflicts refused)." in applied.content.decode()
    assert (
        AttributeMapping.objects.get(
            engagement=mapped, entity_mapping__entity_name="customer", attribute_name="email"
        ).transformation
        == "LOWER(c.email)"
    )


def test_a_bad_workbook_is_refused_inline_with_a_400(client, mapped, ba):
    response = login(client, ba).post(url("spec-import"), {"file": upload(b"not a workbook")})

    assert response.status_code == 400
    assert (
        "This file is not an Excel workbook (.xlsx): export the specification and edit that."
        in response.content.decode()
    )
    assert SpecImport.objects.count() == 0


def test_a_viewer_may_not_import_apply_or_cancel(client, mapped, ba, viewer):
    spec_import = _preview(client, mapped, ba)
    client.logout()
    login(client, viewer)

    assert client.post(url("spec-import"), {"file": upload(b"x")}).status_code == 403
    assert client.post(url("spec-import-apply", spec_import.pk)).status_code == 403
    assert client.post(url("spec-import-cancel", spec_import.pk)).status_code == 403
    assert client.get(url("spec-import-detail", spec_import.pk)).status_code == 200


def test_outsiders_get_404_on_imports_and_jobs(client, mapped, ba, outsider):
    spec_import = _preview(client, mapped, ba)
    client.post(url("spec-export-start"))
    job = Job.objects.get()
    client.logout()
    login(client, outsider)

    for name, method in [
        ("spec-import-detail", "get"),
        ("spec-import-apply", "post"),
        ("spec-import-cancel", "post"),
    ]:
        assert getattr(client, method)(url(name, spec_import.pk)).status_code == 404
    assert client.post(url("spec-export-start")).status_code == 404
    assert client.get(url("spec-job", job.pk)).status_code == 404
    assert client.get(url("spec-job-download", job.pk)).status_code == 404


def _preview(client, engagement, ba) -> SpecImport:
    login(client, ba).post(url("spec-import"), {"file": upload(edited_workbook(engagement, ba))})
    return SpecImport.objects.get()


def test_cancelling_from_the_preview_applies_nothing(client, mapped, ba):
    spec_import = _preview(client, mapped, ba)

    response = client.post(url("spec-import-cancel", spec_import.pk), follow=True)

    assert "Import cancelled; nothing was applied." in response.content.decode()
    spec_import.refresh_from_db()
    assert spec_import.state == "cancelled"


def test_a_large_spec_is_produced_by_a_job_with_a_download_link(
    client, mapped, viewer, settings, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    # Given a spec above the size the page exports directly
    monkeypatch.setattr("exports.views.spec.DIRECT_EXPORT_LIMIT", 10)
    settings.MEDIA_ROOT = tmp_path
    login(client, viewer)
    home = client.get(url("spec-home")).content.decode()
    assert url("spec-download") not in home

    # When the viewer asks for it, a job produces it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("spec-export-start"))

    job = Job.objects.get()
    assert response["Location"] == url("spec-job", job.pk)
    assert job.state == "succeeded"
    assert job.result["download_url"] == url("spec-job-download", job.pk)
    page = client.get(response["Location"]).content.decode()
    assert f'href="{url("spec-job-download", job.pk)}"' in page
    downloaded = client.get(job.result["download_url"])
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(downloaded.streaming_content)))
    assert workbook.sheetnames[0] == "Cover"


def test_the_gap_document_lists_every_item_and_its_workbook_too(client, mapped, viewer):
    items = gap_items(engagement=mapped)
    login(client, viewer)

    page = client.get(reverse("mapping-gap", args=[mapped.slug])).content.decode()
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(url("gap-document-xlsx")).content))

    assert items  # the demo has gaps: subscription is only partly mapped
    for item in items:
        assert item.issue.replace("'", "&#x27;") in page
    assert workbook.sheetnames == ["GAP", "Summary"]
    assert workbook["GAP"].max_row - 1 == len(items)


def test_the_kt_site_documents_every_entity_and_the_archive_holds_the_same(client, mapped, viewer):
    login(client, viewer)
    index = client.get(url("kt-index")).content.decode()
    entity = client.get(url("kt-entity", "customer")).content.decode()
    archive = zipfile.ZipFile(io.BytesIO(client.get(url("kt-download")).content))

    for name in ("customer", "customer_address", "campaign", "email_event", "subscription"):
        assert url("kt-entity", name) in index
        assert f"acme-360-kt/entity-{name}.html" in archive.namelist()
    assert "ETL pipeline design" in index  # the ETL pages are installed: linked
    assert "Copied as is from c.source_customer_ref" in entity
    assert "Taken from c.email, trimmed, then in lower case." in entity
    assert "LEFT JOIN crm_subscription AS s" in entity
    assert "FROM crm_customer AS c" in entity
    customer = archive.read("acme-360-kt/entity-customer.html").decode()
    assert "Taken from c.email, trimmed, then in lower case." in customer
    assert 'href="index.html"' in customer
    assert "Troubleshooting guide" in archive.read("acme-360-kt/troubleshooting.html").decode()


def test_an_unknown_kt_entity_is_404(client, mapped, viewer):
    assert login(client, viewer).get(url("kt-entity", "nope")).status_code == 404


@pytest.mark.parametrize(
    ("name", "queries"),
    [("spec-home", 12), ("kt-index", 18), ("kt-entity", 18)],
)
def test_pages_keep_a_bounded_number_of_queries(
    client, mapped, viewer, django_assert_max_num_queries, name, queries
):
    login(client, viewer)
    args = ("customer",) if name == "kt-entity" else ()
    with django_assert_max_num_queries(queries):
        assert client.get(url(name, *args)).status_code == 200
