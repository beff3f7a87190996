"""The mapping grid works like a spreadsheet: a Tech BA of a fresh engagement maps with the keyboard
only, pastes transformations copied from Excel, accepts suggestions for 20 rows in one action, sees
20+ rows at once at 1440×900 and settles a conflict seeing both values — under the
Content-Security-Policy, with no violation reported."""

from __future__ import annotations

import csv
import io
import re
import sqlite3

import pytest
from playwright.sync_api import expect

from catalog.services import sources as catalog_services
from contracts import services as contract_services
from contracts.importers import SPREADSHEET_HEADER
from mappings.models import AttributeMapping, EntityMapping
from mappings.services import mapping as services
from workbench.choices import Role

from ..factories import PASSWORD, EngagementFactory, member
from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The party entity of a fresh engagement: 30 attributes, each with a like-named Mart column.
ATTRIBUTES = [
    "party_id", "first_name", "last_name", "middle_name", "email", "phone", "mobile", "city",
    "postcode", "country", "street", "house_number", "birth_date", "gender", "title", "language",
    "company", "job_title", "segment", "loyalty_tier", "status_code", "source_system",
    "created_at", "updated_at", "opt_in_email", "opt_in_sms", "channel", "region", "currency",
    "remarks",
]  # fmt: skip

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def fresh(tmp_path):
    """Initrode's engagement on its first mapping day: contract published, Mart cataloged, the
    party entity reading crm_party p, nothing mapped yet."""
    mart = tmp_path / "initrode_mart.sqlite3"
    with sqlite3.connect(mart) as connection:
        columns = ", ".join(f"{name} TEXT" for name in ATTRIBUTES[1:])
        connection.execute(f"CREATE TABLE crm_party (party_id INTEGER PRIMARY KEY, {columns})")
        connection.execute("INSERT INTO crm_party (party_id, first_name) VALUES (1, 'Peter')")
    contract = io.StringIO()
    writer = csv.writer(contract)
    writer.writerow(SPREADSHEET_HEADER)
    for name in ATTRIBUTES:
        meaning = f"The party's {name.replace('_', ' ')}, as the client's CRM knows it."
        key = "yes" if name == "party_id" else ""
        writer.writerow(["party", name, "string", key, key, key, "", "", meaning, ""])

    engagement = EngagementFactory(slug="initrode-360", name="Initrode 360", client="Initrode")
    ba = member(engagement, Role.TECH_BA, "grid-ba")
    member(engagement, Role.VIEWER, "grid-viewer")
    source = catalog_services.source_system_create(
        engagement=engagement, name="Initrode Mart", url=f"sqlite:///{mart}", acting_user=ba
    )
    catalog_services.catalog_introspect(source=source, acting_user=ba)
    layer = contract_services.contract_import(
        engagement=engagement,
        file_name="party.csv",
        content=contract.getvalue().encode(),
        acting_user=ba,
    )
    contract_services.contract_publish(layer=layer, acting_user=ba)
    services.mapping_prepare(engagement=engagement, acting_user=ba)
    party = EntityMapping.objects.get(engagement=engagement, entity_name="party")
    return services.entity_mapping_update(
        entity_mapping=party,
        data={"driving_table": "crm_party", "driving_alias": "p"},
        acting_user=ba,
    )


@pytest.fixture
def grid(page, fresh):
    """The BA's browser on the party grid, watching for policy violations."""
    page.add_init_script(COLLECT_VIOLATIONS)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, "grid-ba", PASSWORD)
    page.goto(f"/e/initrode-360/mapping/entities/{fresh.pk}/")
    expect(cell(page, "party_id", "attribute_name")).to_be_visible()
    yield page
    assert page.evaluate("window.__cspViolations") == []


def rows(page):
    return page.locator("#mapping-grid .tabulator-row")


def row(page, name):
    return page.locator(
        f"#mapping-grid .tabulator-row:has(.grid-attribute strong:text-is('{name}'))"
    )


def cell(page, name, field):
    return row(page, name).locator(f".tabulator-cell[tabulator-field='{field}']")


def mapping(entity, name) -> AttributeMapping:
    return entity.attributes.get(attribute_name=name)


def test_a_ba_maps_ten_attributes_with_the_keyboard_only(grid, fresh):
    page = grid
    keys = page.keyboard
    # The grid holds the focus on arrival, its first cell active: three steps right is Source.
    expect(page.locator(".tabulator-tableholder")).to_be_focused()
    for _ in range(3):
        keys.press("ArrowRight")

    # A typo is pointed at while typing, with line and column, and Esc drops it.
    keys.press("Enter")
    keys.type("p.party_idd")
    hint = page.locator(".grid-hint")
    expect(hint).to_contain_text("has no column 'party_idd'")
    screenshot(page, "grid-live-validation")
    keys.press("Escape")
    expect(hint).to_be_hidden()
    expect(page.locator(".tabulator-tableholder")).to_be_focused()
    assert mapping(fresh, "party_id").row_version == 1
    # Tabulator ignores the grid's keys for 10 ms after an editor closes (so the key that closed
    # it cannot open the next one): a person never types that fast, a script has to wait.
    page.wait_for_timeout(50)

    # Ten rows: Enter edits, the column is typed, Enter saves, the arrow goes down.
    for name in ATTRIBUTES[:10]:
        keys.press("Enter")
        keys.type(f"p.{name}")
        keys.press("Enter")
        expect(cell(page, name, "status")).to_contain_text("Mapped")
        keys.press("ArrowDown")

    # Tab saves and moves right: a source typed, then the default of the next cell over.
    keys.press("Enter")
    keys.type("p.street")
    keys.press("Tab")
    # the save's answer redraws the row: wait for it, so the next keys land where they are meant
    expect(page.locator("#grid-status")).to_contain_text("Saved street.")
    keys.press("Tab")
    keys.press("Enter")
    keys.type("'unknown'")
    # the status already says "Saved street.": wait for the save's own answer instead
    with page.expect_response(lambda answer: answer.request.method == "PATCH"):
        keys.press("Enter")
    expect(cell(page, "street", "default_value")).to_contain_text("'unknown'")

    # A rule the server refuses stays on the cell, marked, saying why (once the row is redrawn
    # and the editor that just closed lets the grid's keys through again, as above).
    page.wait_for_timeout(50)
    keys.press("ArrowDown")
    keys.press("ArrowLeft")
    keys.press("ArrowLeft")
    keys.press("Enter")
    keys.type("p.nowhere")
    keys.press("Enter")
    refused = cell(page, "house_number", "source_columns")
    expect(page.locator("#grid-status")).to_contain_text("Not saved — house_number")
    expect(page.locator("#grid-status")).to_contain_text("(line 1, column")
    expect(refused).to_have_attribute("class", _has("cell-refused"))
    screenshot(page, "grid-keyboard")

    for name in ATTRIBUTES[:10]:
        saved = mapping(fresh, name)
        assert (saved.source_columns, saved.status) == (f"p.{name}", "mapped")
        assert saved.history.first().history_user.username == "grid-ba"
    street = mapping(fresh, "street")
    assert (street.source_columns, street.default_value) == ("p.street", "'unknown'")
    assert mapping(fresh, "house_number").source_columns == ""


def _has(css_class):
    return re.compile(rf"(^|\s){css_class}(\s|$)")


def test_a_ba_pastes_five_transformations_copied_from_excel(grid, fresh):
    page = grid
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copied = "".join(
        f"UPPER(TRIM(p.{name}))\r\n" for name in ["email", "phone", "mobile", "city", "postcode"]
    )  # Excel ends every row, the last one too, with CRLF
    page.evaluate("text => navigator.clipboard.writeText(text)", copied)

    cell(page, "email", "transformation").click()
    page.keyboard.press("Control+V")
    for name in ["email", "phone", "mobile", "city", "postcode"]:
        expect(cell(page, name, "status")).to_contain_text("Mapped")
    expect(page.locator("#grid-status")).to_contain_text("Pasted 5 rows: 5 saved")
    screenshot(page, "grid-paste")

    for name in ["email", "phone", "mobile", "city", "postcode"]:
        pasted = mapping(fresh, name)
        assert pasted.transformation == f"UPPER(TRIM(p.{name}))"
        assert pasted.lineage == [f"p.{name}"]
    assert mapping(fresh, "country").transformation == ""  # the row after the block: untouched


def test_a_ba_accepts_suggestions_for_twenty_rows_in_one_action(grid, fresh):
    page = grid
    # Rows are selected by their numbers, as in a spreadsheet: the first, then Shift to the 20th.
    row(page, "party_id").locator(".grid-rownum").click()
    row(page, "loyalty_tier").locator(".grid-rownum").click(modifiers=["Shift"])
    expect(page.locator("#grid-selection")).to_have_text("20 rows selected")
    page.get_by_role("button", name="Accept top suggestion").click()
    expect(page.locator("#grid-status")).to_contain_text("20 of 20 rows changed.")
    expect(cell(page, "loyalty_tier", "source_columns")).to_contain_text("p.loyalty_tier")
    screenshot(page, "grid-bulk-suggestions")

    # each row took its own top suggestion (the suggester ranks phone's and mobile's alike)
    accepted = list(fresh.attributes.filter(attribute_name__in=ATTRIBUTES[:20]))
    assert len(accepted) == 20
    assert all(m.status == "mapped" and m.source_columns.startswith("p.") for m in accepted)
    assert sum(m.source_columns == f"p.{m.attribute_name}" for m in accepted) >= 19
    assert all(m.history.first().history_user.username == "grid-ba" for m in accepted)
    assert mapping(fresh, "status_code").source_columns == ""  # the 21st row was not selected


def test_twenty_rows_are_visible_at_1440_by_900(grid, fresh):
    page = grid
    expect(rows(page).first).to_be_visible()
    fully_visible = page.evaluate(
        """() => {
          const holder = document.querySelector('#mapping-grid .tabulator-tableholder')
            .getBoundingClientRect();
          return [...document.querySelectorAll('#mapping-grid .tabulator-row')].filter((r) => {
            const box = r.getBoundingClientRect();
            return box.height > 0 && box.top >= Math.max(0, holder.top)
              && box.bottom <= Math.min(window.innerHeight, holder.bottom);
          }).length;
        }"""
    )
    screenshot(page, "grid-1440x900")
    assert fully_visible >= 20
    # The header stays while the rows scroll; the attribute column stays while columns scroll.
    page.locator(".tabulator-tableholder").evaluate("h => { h.scrollTop = 400; }")
    expect(page.locator(".tabulator-col[tabulator-field='transformation']")).to_be_in_viewport()
    frozen = page.locator(".tabulator-col[tabulator-field='attribute_name']")
    expect(frozen).to_have_attribute("class", _has("tabulator-frozen"))


def test_a_conflict_shows_both_values_and_the_ba_picks(grid, fresh):
    page = grid
    phone = mapping(fresh, "phone")
    cell(page, "phone", "transformation").click()
    page.keyboard.press("Enter")
    expect(page.locator(".grid-editor")).to_be_focused()
    # meanwhile someone else saves the same row
    from django.contrib.auth import get_user_model

    services.attribute_mapping_update(
        attribute_mapping=phone,
        data={"transformation": "TRIM(p.phone)"},
        acting_user=get_user_model().objects.get(username="grid-ba"),
    )
    page.keyboard.type("UPPER(p.phone)")
    page.keyboard.press("Enter")
    dialog = page.locator("#grid-conflict")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Yours: UPPER(p.phone)")
    expect(dialog).to_contain_text("Theirs: TRIM(p.phone)")
    screenshot(page, "grid-conflict")
    dialog.get_by_role("button", name="Keep mine").click()
    expect(page.locator("#grid-status")).to_contain_text("Saved phone.")
    phone.refresh_from_db()
    assert (phone.transformation, phone.row_version) == ("UPPER(p.phone)", 3)


def test_a_viewer_reads_the_grid_but_gets_no_editor_or_bulk_action(page, fresh):
    log_in(page, "grid-viewer", PASSWORD)
    page.goto(f"/e/initrode-360/mapping/entities/{fresh.pk}/")
    expect(cell(page, "email", "source_columns")).to_be_visible()
    expect(page.get_by_role("button", name="Accept top suggestion")).to_have_count(0)
    cell(page, "email", "source_columns").click()
    page.keyboard.press("Enter")
    page.keyboard.type("p.email")
    expect(page.locator(".grid-editor")).to_have_count(0)
    assert mapping(fresh, "email").row_version == 1
