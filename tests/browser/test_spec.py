"""A Tech BA downloads the Master Mapping Specification, edits it offline, imports it back,
reads the preview and accepts it; then opens the GAP document and the KT documentation."""

from __future__ import annotations

import openpyxl
import pytest
from playwright.sync_api import expect

from mappings.models import AttributeMapping
from tests.exports.spec.conftest import (  # noqa: F401
    cataloged,
    demo_mart_file,
    edit,
    etl,
    mapped,
    profiled,
    published,
    source,
)
from tests.factories import PASSWORD

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_ba_round_trips_the_specification_and_reads_the_documents(page, mapped, ba, tmp_path):  # noqa: F811
    log_in(page, ba.username, PASSWORD)

    page.goto("/e/acme-360/exports/spec/")
    expect(page.get_by_role("heading", name="Master Mapping Specification")).to_be_visible()
    screenshot(page, "spec-home")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the workbook (.xlsx)").click()
    downloaded = tmp_path / "spec.xlsx"
    download_info.value.save_as(downloaded)

    # Offline: the BA rewrites one rule in the spreadsheet
    workbook = openpyxl.load_workbook(downloaded)
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")
    workbook.save(downloaded)

    page.get_by_label("Edited specification").set_input_files(str(downloaded))
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.get_by_text("customer.email").first).to_be_visible()
    expect(page.get_by_text("LOWER(TRIM(c.email))")).to_be_visible()
    screenshot(page, "spec-import-preview")
    page.get_by_role("button", name="Accept and apply").click()
    expect(page.get_by_text("Applied 1 changes (0 conflicts refused).")).to_be_visible()
    assert (
        AttributeMapping.objects.get(
            engagement=mapped, entity_mapping__entity_name="customer", attribute_name="email"
        ).transformation
        == "LOWER(c.email)"
    )

    page.get_by_role("link", name="GAP document").first.click()
    expect(page.get_by_role("heading", name="GAP document")).to_be_visible()
    screenshot(page, "gap-document")
    page.get_by_role("link", name="KT documentation").click()
    expect(page.get_by_role("heading", name="How the interface layer is populated")).to_be_visible()
    page.get_by_role("link", name="customer", exact=True).click()
    expect(page.get_by_text("Taken from c.email, in lower case.")).to_be_visible()
    screenshot(page, "kt-entity")
