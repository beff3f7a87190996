"""A Tech BA imports the Interface Layer in the browser, browses it, writes notes, imports a
second version and publishes it after reading the diff."""

from __future__ import annotations

import re

import pytest
import yaml
from playwright.sync_api import expect

from contracts.demo import DEMO_CONTRACT
from contracts.models import InterfaceLayer, InterfaceNote
from tests.factories import PASSWORD, EngagementFactory, member
from workbench.choices import Role

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup(db):
    engagement = EngagementFactory(slug="acme-360", name="Acme 360", client="Acme Retail")
    ba = member(engagement, Role.TECH_BA, "bao")
    ba.first_name, ba.last_name = "Bao", "Analyst"
    ba.save()
    return engagement, ba


def second_version(tmp_path):
    document = yaml.safe_load(DEMO_CONTRACT.read_text())
    document["version"] = "1.1.0"
    customer = document["schema"][0]
    customer["properties"] = [p for p in customer["properties"] if p["name"] != "gender"]
    phone = next(p for p in customer["properties"] if p["name"] == "phone")
    phone["required"] = True
    customer["properties"].append(
        {"name": "loyalty_tier", "logicalType": "string", "required": False}
    )
    path = tmp_path / "marketing_360-1.1.odcs.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_a_ba_imports_browses_notes_and_publishes_a_second_version(page, setup, tmp_path):
    engagement, ba = setup
    log_in(page, "bao", PASSWORD)

    # Import the first version through the form.
    page.goto("/e/acme-360/contract/")
    expect(page.get_by_text("No contract has been imported yet.")).to_be_visible()
    page.get_by_role("button", name="Import a contract").click()
    page.get_by_label("Contract file").set_input_files(str(DEMO_CONTRACT))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Imported Marketing 360 1.0.0 as a draft"
    )
    page.get_by_role("button", name="Publish 1.0.0").click()
    expect(page.get_by_text("Published Marketing 360 1.0.0.")).to_be_visible()
    entities = page.locator("table.entities tbody tr")
    expect(entities).to_have_count(5)
    screenshot(page, "contract-overview")

    # The entity page: attributes with types, keys and meanings; a note on an attribute.
    page.get_by_role("link", name="email_event", exact=True).click()
    expect(page).to_have_url(re.compile(r"/contract/entities/email_event/$"))
    expect(page.locator("#attr-campaign_id")).to_contain_text("FK → campaign.campaign_id")
    expect(page.locator("#attr-event_type")).to_contain_text("complained")
    page.get_by_label("About", exact=True).select_option("event_type")
    page.get_by_label("Note").fill(
        "The ESP sends hard_bounce and soft_bounce: both become bounced."
    )
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#interface-notes .note")).to_have_count(1)
    expect(page.locator("#interface-notes")).to_contain_text("email_event.event_type")
    assert InterfaceNote.objects.get().author == ba
    screenshot(page, "contract-entity")

    # Mandatory vs optional, canonical semantics (live search) and the ERD.
    tabs = page.get_by_role("navigation", name="Contract views")
    tabs.get_by_role("link", name="Mandatory", exact=True).click()
    expect(page.locator("#entity-customer")).to_contain_text("6 mandatory · 6 optional")
    tabs.get_by_role("link", name="Semantics", exact=True).click()
    page.get_by_role("searchbox").fill("E.164")
    expect(page.locator("#semantics-table tbody tr")).to_have_count(1)
    expect(page.locator("#semantics-table")).to_contain_text("phone")
    screenshot(page, "contract-semantics")
    tabs.get_by_role("link", name="ERD", exact=True).click()
    # The diagram is drawn (wait_for_function would evaluate a string: the CSP forbids that).
    expect(page.locator("#erd")).to_have_attribute("data-ready", "true")
    assert page.evaluate("window.contractErd.nodes().length") == 5
    assert page.evaluate("window.contractErd.edges().length") == 4
    screenshot(page, "contract-erd")

    # A second version: the diff, then an explicit publish.
    page.goto("/e/acme-360/contract/import/")
    page.get_by_label("Contract file").set_input_files(str(second_version(tmp_path)))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Changes in Marketing 360 1.1.0")).to_be_visible()
    expect(page.locator("table.diff-table")).to_contain_text("customer.loyalty_tier")
    expect(page.locator("table.diff-table")).to_contain_text("customer.gender")
    expect(page.locator("table.diff-table tr.chg")).to_contain_text("required")
    screenshot(page, "contract-diff")
    page.get_by_role("button", name="Publish 1.1.0").click()
    expect(page.get_by_text("Published Marketing 360 1.1.0.")).to_be_visible()
    statuses = dict(InterfaceLayer.objects.values_list("version", "status"))
    assert statuses == {"1.0.0": "superseded", "1.1.0": "published"}


def test_a_bad_file_is_refused_inline_and_nothing_saved(page, setup, tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("apiVersion: v3.1.0\nkind: DataContract\n  id: x\n")
    log_in(page, "bao", PASSWORD)

    page.goto("/e/acme-360/contract/import/")
    page.get_by_label("Contract file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "broken.yaml: line 3, column 5: malformed YAML"
    )
    assert InterfaceLayer.objects.count() == 0
    screenshot(page, "contract-import-error")
