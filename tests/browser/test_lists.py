"""The catalog and the GAP document are grids too: the demo Tech BA narrows the Mart's columns with
a header filter, sorts them, walks them with the arrow keys, copies a range for Excel and opens a
table with Enter; on the GAP document one click on an item opens the mapping row to fix — under
the Content-Security-Policy, with no violation reported."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from catalog.models import CatalogColumn
from mappings.selectors.gap import gap_items, gap_rows
from workbench.demo import DEMO_PASSWORD, DEMO_SLUG, load_demo

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def ba_page(page):
    """The demo BA's browser, watching for policy violations."""
    engagement = load_demo()
    page.add_init_script(COLLECT_VIOLATIONS)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, "ba", DEMO_PASSWORD)
    page.engagement = engagement
    yield page
    assert page.evaluate("window.__cspViolations") == []


def column_of(page, field):
    return page.locator(f".list-grid .tabulator-row .tabulator-cell[tabulator-field='{field}']")


def header_of(page, field):
    return page.locator(f".list-grid .tabulator-col[tabulator-field='{field}']")


def test_the_ba_filters_sorts_walks_and_copies_the_catalog_grid(ba_page):
    page = ba_page
    page.goto(f"/e/{DEMO_SLUG}/mapping/catalog/")
    expect(column_of(page, "name").first).to_be_visible()
    expect(page.locator("#catalog-columns-table")).to_be_hidden()  # the no-JS table, replaced
    expect(page.locator("[data-grid-count=catalog-columns]")).to_have_text("55")

    # A header filter narrows the columns by name; the table's header sorts them, then reverses.
    header_of(page, "name").locator("input").press_sequentially("email")
    expect(column_of(page, "name")).to_have_text(["email", "owner_email", "email_address", "email"])
    header_of(page, "table_name").locator(".tabulator-col-title").click()
    header_of(page, "table_name").locator(".tabulator-col-title").click()
    expect(column_of(page, "table_name")).to_have_text(
        ["v_active_customer", "mkt_email_event", "mkt_campaign", "crm_customer"]
    )
    expect(column_of(page, "patterns").last).to_have_text("email")
    screenshot(page, "catalog-grid")

    # A range of two rows by two columns goes to the clipboard as Excel reads it.
    column_of(page, "name").nth(0).click()
    column_of(page, "data_type").nth(1).click(modifiers=["Shift"])
    page.keyboard.press("Control+C")
    copied = page.evaluate("navigator.clipboard.readText()")
    types = dict(
        CatalogColumn.objects.filter(
            table__name__in=["v_active_customer", "mkt_email_event"], name__startswith="email"
        ).values_list("table__name", "data_type")
    )
    assert copied.split("\n")[:2] == [
        f"email\t{types['v_active_customer']}",
        f"email_address\t{types['mkt_email_event']}",
    ]

    # The arrows move by cell; Enter opens the table of the row the cursor is on.
    column_of(page, "name").nth(2).click()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="crm_customer")).to_be_visible()
    expect(page.locator("tr[data-column='email']")).to_be_visible()


def test_one_click_on_a_gap_item_opens_the_row_to_fix(ba_page):
    page = ba_page
    items = [i for i in gap_items(engagement=page.engagement) if i.attribute]
    where = gap_rows(engagement=page.engagement, items=items)
    item = next(i for i in items if where.get((i.entity, i.attribute), (0, None))[1])
    entity_pk, attribute_pk = where[(item.entity, item.attribute)]

    page.goto(f"/e/{DEMO_SLUG}/mapping/gap/")
    expect(column_of(page, "attribute").first).to_be_visible()
    expect(page.locator("#gap-table")).to_be_hidden()
    header_of(page, "entity").locator("input").press_sequentially(item.entity)
    header_of(page, "attribute").locator("input").press_sequentially(item.attribute)
    # the header filters apply after a pause: wait for the rows both filters leave (substrings,
    # any case), so the click lands on a row that stays
    left = [
        i
        for i in gap_items(engagement=page.engagement)
        if item.entity.lower() in i.entity.lower() and item.attribute.lower() in i.attribute.lower()
    ]
    expect(page.locator(".list-grid .tabulator-row")).to_have_count(len(left))
    expect(column_of(page, "severity").first).to_have_text(item.severity)
    screenshot(page, "gap-grid")

    column_of(page, "attribute").first.get_by_role("link", name=item.attribute).click()

    expect(page).to_have_url(re.compile(rf"/mapping/entities/{entity_pk}/#row-{attribute_pk}$"))
    target = page.locator(f"#mapping-grid #row-{attribute_pk}")
    expect(target).to_have_class(re.compile(r"(^|\s)row-target(\s|$)"))
    expect(target).to_be_in_viewport()
    screenshot(page, "gap-grid-opened-row")
