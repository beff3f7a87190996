"""A Tech BA maps attributes in the table view (the HTMX one-row edit): validation while typing, a refused rule, a suggestion
taken with one click, the conflict when someone else saved first."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mappings.models import AttributeMapping, EntityMapping
from mappings.services import mapping as services
from workbench.demo import DEMO_PASSWORD, DEMO_SLUG, load_demo

from .conftest import log_in, row_form_ready, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _row(page, name):
    return page.locator(f"tr[data-attribute='{name}']")


def test_a_ba_maps_in_the_grid_with_validation_and_suggestions(page):
    engagement = load_demo()
    subscription = EntityMapping.objects.get(engagement=engagement, entity_name="subscription")
    log_in(page, "ba", DEMO_PASSWORD)
    page.goto(f"/e/{DEMO_SLUG}/mapping/")
    expect(page.locator("tr[data-entity='customer']")).to_contain_text("100%")
    expect(page.locator("#gap-summary")).to_contain_text("high")  # asked for after the coverage
    screenshot(page, "mapping-overview")
    page.get_by_role("link", name="subscription", exact=True).click()
    # the one-row HTMX edit lives on as the table view (the grid's own stories: test_grid.py)
    page.get_by_role("link", name="Table view").click()

    # a suggestion, accepted with one click
    _row(page, "start_date").get_by_role("button", name="Suggest a source for start_date").click()
    expect(page.get_by_text("Candidate source columns for")).to_be_visible()
    screenshot(page, "mapping-suggestions")
    page.get_by_role("button", name="Use s.opt_in_date").click()
    expect(_row(page, "start_date")).to_contain_text("s.opt_in_date")
    expect(_row(page, "start_date")).to_contain_text("Mapped")

    # a typo is pointed at while typing, and refused on save
    _row(page, "status").get_by_role("button", name="Edit status").click()
    # the form is ready (htmx has wired it) once its first field has the focus
    row_form_ready(_row(page, "status"))
    transformation = _row(page, "status").locator("textarea[name=transformation]")
    transformation.fill("CASE WHEN UPPER(s.opt_in_flg) = 'Y' THEN 'active' ELSE 'cancelled' END")
    expect(_row(page, "status").locator(".live-problems")).to_contain_text(
        "The table crm_subscription has no column 'opt_in_flg'"
    )
    _row(page, "status").get_by_role("button", name="Save").click()
    refused = _row(page, "status").locator(".f-transformation small.error")
    expect(refused).to_contain_text("has no column 'opt_in_flg'")
    expect(_row(page, "status").locator("input[name=source_columns]")).to_be_focused()
    transformation.fill("CASE WHEN UPPER(s.opt_in_flag) = 'Y' THEN 'active' ELSE 'cancelled' END")
    expect(_row(page, "status").locator(".live-problems")).to_contain_text("Valid")
    _row(page, "status").get_by_role("button", name="Save").click()
    expect(_row(page, "status")).to_contain_text("Mapped")
    screenshot(page, "mapping-grid")

    status = subscription.attributes.get(attribute_name="status")
    assert status.lineage == ["s.opt_in_flag"]
    assert status.history.first().history_user.username == "ba"


def test_two_people_on_the_same_row_get_the_conflict(page):
    engagement = load_demo()
    customer = EntityMapping.objects.get(engagement=engagement, entity_name="customer")
    log_in(page, "ba", DEMO_PASSWORD)
    page.goto(f"/e/{DEMO_SLUG}/mapping/entities/{customer.pk}/?view=table")
    _row(page, "phone").get_by_role("button", name="Edit phone").click()
    expect(_row(page, "phone").locator("input[name=source_columns]")).to_be_focused()

    # meanwhile, someone else saves the same row
    phone = AttributeMapping.objects.get(entity_mapping=customer, attribute_name="phone")
    from django.contrib.auth import get_user_model

    services.attribute_mapping_update(
        attribute_mapping=phone,
        data={"transformation": "TRIM(c.phone)"},
        acting_user=get_user_model().objects.get(username="ba"),
    )

    _row(page, "phone").locator("textarea[name=transformation]").fill("UPPER(c.phone)")
    _row(page, "phone").get_by_role("button", name="Save").click()
    expect(_row(page, "phone")).to_contain_text("since you opened it")
    expect(_row(page, "phone")).to_contain_text("Your values, not saved")
    expect(_row(page, "phone").locator("textarea[name=transformation]")).to_have_value(
        "TRIM(c.phone)"
    )
    screenshot(page, "mapping-conflict")
    phone.refresh_from_db()
    assert phone.transformation == "TRIM(c.phone)"
