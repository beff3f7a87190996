"""The demo Tech BA explores the Acme Mart: sources, catalog, a table with its profile charts, the
ERD, re-introspection with a progress bar, and the printable Source Understanding Notes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from workbench.demo import DEMO_PASSWORD, DEMO_SLUG, load_demo

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_ba_explores_the_mart_catalog_and_writes_the_understanding(page):
    load_demo()
    log_in(page, "ba", DEMO_PASSWORD)

    page.goto(f"/e/{DEMO_SLUG}/mapping/sources/")
    card = page.locator("article[data-source='Acme Marketing Data Mart']")
    expect(card).to_contain_text("7 tables")
    expect(card.locator(".source-url")).to_contain_text("sqlite:///")
    screenshot(page, "catalog-sources")

    card.get_by_role("button", name="Re-introspect").click()
    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("data-state", "succeeded", timeout=15_000)
    expect(progress).to_contain_text("Cataloged 7 tables, 55 columns, 6 foreign keys")

    page.goto(f"/e/{DEMO_SLUG}/mapping/catalog/")
    expect(page.locator(".table-tile")).to_have_count(7)
    # typed once the page has settled (its grid's rows fetched): under load, text typed before
    # was lost with the form (CI: the filter stayed empty and the address unchanged)
    page.wait_for_load_state("networkidle")
    column = page.locator("form.filters").get_by_label("Column", exact=True)
    column.fill("email")
    expect(column).to_have_value("email")
    expect(page).to_have_url(re.compile(r"column=email"))
    # the grid of the columns is rebuilt from the API with the same filter
    tables = page.locator(".list-grid .tabulator-cell[tabulator-field='table_name']")
    expect(tables).to_have_count(4)
    screenshot(page, "catalog-browser")

    tables.get_by_role("link", name="crm_customer", exact=True).click()
    expect(page.get_by_role("heading", name="crm_customer")).to_be_visible()
    status = page.locator("tr[data-column='status']")
    expect(status.locator(".bar-row")).to_have_count(4)
    expect(status).to_contain_text("ACTIVE")
    expect(page.locator("tr[data-column='email'] .chip.pattern")).to_have_text("email")
    page.get_by_label("Grain").fill("One row per CRM customer record, duplicates included")
    page.get_by_role("button", name="Save understanding").click()
    expect(page.get_by_text("Source understanding saved.")).to_be_visible()
    phone = page.locator("tr[data-column='phone']")
    phone.get_by_label("Note on phone").fill("Normalise to E.164")
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_role("status")).to_have_text("saved")
    # the columns, their profile and notes fit the screen: nothing hides behind a scroll bar
    table = page.locator(".scroll-x").first
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth"), page.viewport_size
    screenshot(page, "catalog-table")

    page.goto(f"/e/{DEMO_SLUG}/mapping/catalog/erd/")
    expect(page.locator("#erd")).to_have_attribute("data-ready", "true")
    expect(page.locator("#erd canvas").first).to_be_visible()
    screenshot(page, "catalog-erd")

    page.goto(f"/e/{DEMO_SLUG}/mapping/source-notes/")
    expect(page.get_by_role("heading", name="Source Understanding Notes")).to_be_visible()
    expect(page.get_by_text("One row per CRM customer record, duplicates included")).to_be_visible()
    expect(page.get_by_text("Normalise to E.164")).to_be_visible()
    screenshot(page, "catalog-notes")


def test_a_viewer_sees_the_catalog_without_any_button_to_change_it(page):
    load_demo()
    log_in(page, "viewer", DEMO_PASSWORD)

    page.goto(f"/e/{DEMO_SLUG}/mapping/sources/")
    expect(page.get_by_role("button", name="Re-introspect")).to_have_count(0)
    page.goto(f"/e/{DEMO_SLUG}/mapping/catalog/")
    page.locator(".table-tile[data-table='mkt_campaign']").click()
    expect(page.get_by_role("button", name="Save understanding")).to_have_count(0)
    expect(page.get_by_text("One row per campaign.")).to_be_visible()
