"""The ETL developer generates the ETL, runs it on the demo's sample Mart, reads the failing unit
tests with their sample rows and routes one back to the BA's mapping. The demo's own run passes
every test; the failures come from the mapping's first draft (tests/exports/etl/conftest.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from exports.models import TestRun, UnitTestResult
from mappings.models import AttributeMapping
from signoff.models import UatItem
from workbench.demo import DEMO_PASSWORD, DEMO_SLUG, load_demo

from ..exports.etl.conftest import FIRST_DRAFT, complete_mapping
from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_etl_developer_runs_the_unit_tests_and_routes_a_failure(page, tmp_path):
    engagement = load_demo()
    demo_run = TestRun.objects.get()  # the demo's own run, from load_demo: all green
    assert (demo_run.tests_failed, demo_run.tests_total > 0) == (0, True)
    # the BA's first draft of the mapping, as it was before the first test run
    complete_mapping(engagement, User.objects.get(username="ba"), FIRST_DRAFT)
    log_in(page, "etl", DEMO_PASSWORD)
    page.goto(f"/e/{DEMO_SLUG}/")
    page.get_by_role("link", name="Build & unit tests").click()
    expect(page.get_by_role("heading", name="ETL build and unit tests")).to_be_visible()
    expect(page.locator("tr[data-entity='customer']")).to_contain_text("generated")
    expect(page.locator("tr[data-entity='subscription']")).to_contain_text("not generated")
    screenshot(page, "etl-overview")

    # the run, started from the page with the cataloged Mart, into a scratch SQLite file
    page.get_by_label("Target URL").fill(f"sqlite:///{tmp_path / 'interface.sqlite3'}")
    page.get_by_role("button", name="Start test run").click()
    page.wait_for_load_state("networkidle")
    run = TestRun.objects.exclude(pk=demo_run.pk).get()
    # the draft's orphans fail their loads (rolled back) and their foreign-key tests
    assert run.tests_failed == 8, run.message
    page.goto(f"/e/{DEMO_SLUG}/exports/etl/")
    expect(page.locator(f"tr[data-run='{run.pk}']")).to_contain_text("8 failed")
    page.get_by_role("link", name=f"#{run.pk}").click()
    expect(page.locator(".run-summary")).to_contain_text(f"{run.tests_total} tests, 8 failed")

    # only the failures, with their sample rows and the way back to the mapping
    page.get_by_role("link", name="Only failing tests").click()
    orphan = UnitTestResult.objects.get(
        run=run, name="customer_address.customer_id: foreign key to customer"
    )
    row = page.locator(f"#result-{orphan.pk}")
    expect(row).to_contain_text("Fail")
    detail = row.locator("xpath=following-sibling::tr[1]")
    expect(detail).to_contain_text("sample failing row")
    grid_row = (
        f"/e/{DEMO_SLUG}/mapping/entities/{orphan.attribute_mapping.entity_mapping_id}/"
        f"#row-{orphan.attribute_mapping_id}"
    )
    expect(detail.get_by_role("link", name="customer_address.customer_id")).to_have_attribute(
        "href", grid_row
    )
    screenshot(page, "etl-run-failures")
    detail.get_by_label("Route").select_option("mapping")
    detail.get_by_placeholder("Comment").fill("Filter the addresses of closed customers.")
    detail.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").first).to_contain_text("Mapping error (back to the BA)")
    orphan.refresh_from_db()
    assert orphan.route == "mapping"
    assert orphan.history.latest().history_user.username == "etl"
    screenshot(page, "etl-run-routed")

    # the BA raises another failure as UAT feedback, straight from the run page
    page.context.clear_cookies()
    log_in(page, "ba", DEMO_PASSWORD)
    phone = UnitTestResult.objects.get(run=run, name="customer.phone: pattern")
    page.goto(f"/e/{DEMO_SLUG}/exports/etl/runs/{run.pk}/?failing=1")
    detail = page.locator(f"#result-{phone.pk}").locator("xpath=following-sibling::tr[1]")
    expect(detail.get_by_label("UAT classification")).to_have_value("mapping_change")
    screenshot(page, "etl-run-raise-uat")
    detail.get_by_role("button", name="Raise as UAT feedback").click()
    expect(page.get_by_role("heading", name="UAT feedback")).to_be_visible()
    item = UatItem.objects.get(test_result_ref=str(phone.pk))
    expect(page.get_by_role("status").first).to_contain_text(
        f"Raised UAT item #{item.pk} on customer.phone (Mapping change)"
    )
    screenshot(page, "etl-uat-raised")
    page.goto(f"/e/{DEMO_SLUG}/exports/etl/runs/{run.pk}/?failing=1")
    expect(
        page.locator(f"#result-{phone.pk}").locator("xpath=following-sibling::tr[1]")
    ).to_contain_text(f"Raised as UAT item #{item.pk}")


def test_a_failed_test_run_leads_in_one_click_to_the_rule_at_fault(page, tmp_path):
    engagement = load_demo()
    complete_mapping(engagement, User.objects.get(username="ba"), FIRST_DRAFT)
    log_in(page, "etl", DEMO_PASSWORD)
    page.goto(f"/e/{DEMO_SLUG}/exports/etl/")
    page.get_by_label("Target URL").fill(f"sqlite:///{tmp_path / 'interface.sqlite3'}")
    page.get_by_role("button", name="Start test run").click()
    # The job's page names the job in words, says what happened and offers the next step
    expect(page.get_by_role("heading", name="ETL test run")).to_be_visible()
    expect(page.locator("#job-progress")).to_have_attribute("data-state", "succeeded")
    expect(page.locator(".job-outcome")).to_contain_text("8 failed")
    screenshot(page, "etl-run-job")
    page.get_by_role("link", name="See the failing tests").click()
    # The run's page shows what loaded and the rule at fault of each failed load
    loads = page.locator("#loads")
    campaign = loads.locator("tr[data-entity='campaign']")
    expect(campaign).to_contain_text("UNIQUE constraint failed: if_campaign.campaign_code")
    expect(loads.locator("tr[data-entity='customer']")).to_contain_text("Loaded")
    expect(loads.locator("tr[data-entity='subscription']")).to_contain_text("Not loaded")
    screenshot(page, "etl-run-what-loaded")
    # One click leads to the campaign_code row in the mapping grid
    campaign.get_by_role("link", name="campaign.campaign_code").click()
    code = AttributeMapping.objects.get(
        entity_mapping__engagement=engagement,
        entity_mapping__entity_name="campaign",
        attribute_name="campaign_code",
    )
    expect(page).to_have_url(
        f"{page.url.split('/e/')[0]}/e/{DEMO_SLUG}/mapping/entities/"
        f"{code.entity_mapping_id}/#row-{code.pk}"
    )
    row = page.locator(f"#row-{code.pk}")
    expect(row).to_be_visible()
    expect(row).to_be_in_viewport()
    screenshot(page, "etl-run-rule-at-fault")
