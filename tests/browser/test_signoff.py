"""The three gates walked in the browser with the demo users: the SME signs off the mapping, a
later change is flagged with its diff, UAT feedback blocks the UAT sign-off until resolved, the
cutover checklist takes the engagement into production."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from mappings.models import EntityMapping
from mappings.services import mapping as mapping_services
from signoff import services
from signoff.choices import Gate
from signoff.models import ReviewRequest, UatItem
from workbench.demo import DEMO_PASSWORD, DEMO_SLUG, load_demo

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIGNOFF = f"/e/{DEMO_SLUG}/signoff/"


def _open_gate(page, gate: str):
    page.goto(SIGNOFF)
    page.get_by_role("list", name="Gates").locator(".gate-card", has_text=gate).get_by_role(
        "link"
    ).click()


def _submit(page, gate_value: str):
    page.goto(SIGNOFF)
    page.get_by_label("Gate", exact=True).select_option(gate_value)
    page.get_by_role("button", name="Freeze and submit").click()
    expect(page.locator(".msg")).to_contain_text("submitted for the")


def test_the_three_gates_with_the_demo_users(page):
    engagement = load_demo()

    # --- Gate 1: the SME opens the review in progress from the inbox and approves version 1
    log_in(page, "sme", DEMO_PASSWORD)
    page.goto(SIGNOFF)
    expect(page.locator(".inbox-count")).to_be_visible()
    page.locator(".inbox-link").click()
    page.get_by_role("button", name=re.compile("Mapping sign-off requested: version 1")).click()
    expect(page.get_by_role("heading", name="Mapping sign-off: version 1")).to_be_visible()
    screenshot(page, "signoff-review-requested")
    page.get_by_label("Comment").fill("Walked through with Bao on Thursday; agreed.")
    page.get_by_role("button", name="Approve version 1").click()
    expect(page.locator(".badge.big")).to_have_text("Approved")

    # --- A change after sign-off is flagged with its diff
    ba = engagement.memberships.get(user__username="ba").user
    email = EntityMapping.objects.get(engagement=engagement, entity_name="customer").attributes.get(
        attribute_name="email"
    )
    mapping_services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "LOWER(c.email)"}, acting_user=ba
    )
    log_in(page, "ba", DEMO_PASSWORD)
    page.goto(SIGNOFF)
    banner = page.locator(".changed-banner")
    expect(banner).to_contain_text("Changed since sign-off")
    expect(banner).to_contain_text("LOWER(TRIM(c.email))")
    expect(banner).to_contain_text("LOWER(c.email)")
    expect(page.locator(".signoff-table")).to_contain_text("Changed since sign-off")
    screenshot(page, "signoff-changed-since")
    _submit(page, "mapping")
    expect(page.get_by_role("heading", name="Mapping sign-off: version 2")).to_be_visible()

    log_in(page, "sme", DEMO_PASSWORD)
    _open_gate(page, "Mapping sign-off")
    page.get_by_role("button", name="Approve version 2").click()
    expect(page.locator(".badge.big")).to_have_text("Approved")

    # --- Gate 2: UAT feedback, refused sign-off while open, resolved, signed off by Client Ops
    page.goto(f"{SIGNOFF}uat/")
    page.get_by_label("Entity").select_option("customer")
    page.get_by_label("Attribute").fill("email")
    page.get_by_label("Classification").select_option("etl_fix")
    page.get_by_label("Owner").select_option("etl")
    page.get_by_label("Description").fill("Emails in the output keep trailing spaces.")
    page.get_by_role("button", name="Raise").click()
    expect(page.locator("table.uat")).to_contain_text("customer.email")
    item = UatItem.objects.get(description="Emails in the output keep trailing spaces.")

    log_in(page, "ba", DEMO_PASSWORD)
    _submit(page, "uat")

    log_in(page, "ops", DEMO_PASSWORD)
    _open_gate(page, "UAT sign-off")
    page.get_by_role("button", name="Approve version 2").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        f"UAT sign-off is refused while 1 UAT item is open: #{item.pk}."
    )
    screenshot(page, "signoff-uat-refused")

    log_in(page, "etl", DEMO_PASSWORD)
    page.goto(f"{SIGNOFF}uat/")
    page.get_by_label(f"Resolution of #{item.pk}").fill("TRIM added to the load")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("table.uat")).to_contain_text("Resolved")
    screenshot(page, "signoff-uat")

    log_in(page, "ops", DEMO_PASSWORD)
    _open_gate(page, "UAT sign-off")
    page.get_by_role("button", name="Approve version 2").click()
    expect(page.locator(".badge.big")).to_have_text("Approved")

    # --- Gate 3: the cutover approved by the lead, the checklist ticked by ETL and Client Ops
    log_in(page, "ba", DEMO_PASSWORD)
    _submit(page, "cutover")
    log_in(page, "lead", DEMO_PASSWORD)
    _open_gate(page, "Cutover")
    page.get_by_role("button", name="Approve version 2").click()
    expect(page.locator(".badge.big")).to_have_text("Approved")

    log_in(page, "etl", DEMO_PASSWORD)
    page.goto(f"{SIGNOFF}cutover/")
    page.get_by_role("button", name="Tick “Pipelines deployed”").click()
    page.get_by_label("Link to the validated run").fill("https://ci.acme.example/runs/981")
    page.get_by_role("button", name="Tick “First full run validated”").click()
    expect(page.locator(".checklist li.ticked")).to_have_count(2)

    log_in(page, "ops", DEMO_PASSWORD)
    page.goto(f"{SIGNOFF}cutover/")
    page.get_by_role("button", name="Tick “Load schedule confirmed by Client Ops”").click()
    expect(page.locator(".checklist li.ticked")).to_have_count(3)
    expect(page.locator(".page-head .badge")).to_have_text("In production")
    screenshot(page, "signoff-cutover")

    # --- The viewer sees it all, decides nothing; the audit trail tells the story
    log_in(page, "viewer", DEMO_PASSWORD)
    page.goto(SIGNOFF)
    expect(page.get_by_role("button", name="Freeze and submit")).to_have_count(0)
    screenshot(page, "signoff-overview")
    page.goto(f"{SIGNOFF}audit/")
    page.get_by_label("Gate").select_option("cutover")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit")).to_contain_text("Engagement in production")
    screenshot(page, "signoff-audit")


def test_the_sme_approves_from_the_review_page_after_seeing_the_changes(page):
    # Given version 1 approved, then a rule changed by the BA and version 2 submitted
    engagement = load_demo()
    users = {m.user.username: m.user for m in engagement.memberships.select_related("user")}
    first = ReviewRequest.objects.get(engagement=engagement)
    services.do_decide(review=first, verdict="approve", acting_user=users["sme"])
    email = EntityMapping.objects.get(engagement=engagement, entity_name="customer").attributes.get(
        attribute_name="email"
    )
    mapping_services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "LOWER(c.email)"}, acting_user=users["ba"]
    )
    services.do_submit_for_review(
        engagement=engagement, gate=Gate.MAPPING, acting_user=users["ba"], message="Email fix"
    )

    # The SME logs in and finds the review waiting for them on the home
    log_in(page, "sme", DEMO_PASSWORD)
    page.goto("/")
    waiting = page.get_by_role("region", name=re.compile("Waiting for you"))
    expect(waiting).to_contain_text("Mapping sign-off: version 2 waits for your decision")
    screenshot(page, "home-waiting-for-you")
    waiting.get_by_role("link", name=re.compile("version 2 waits for your decision")).click()

    # The review page shows the changed rule, before and after, and the open GAP items
    expect(page.get_by_role("heading", name="Mapping sign-off: version 2")).to_be_visible()
    changes = page.get_by_role("region", name="What changed since version 1 was approved")
    expect(changes).to_contain_text("1 attribute changed")
    expect(changes.locator("td.before")).to_contain_text("LOWER(TRIM(c.email))")
    expect(changes.locator("td.after")).to_contain_text("LOWER(c.email)")
    gap = page.get_by_role("region", name=re.compile("Open GAP items"))
    expect(gap.locator("tbody tr").first).to_be_visible()
    screenshot(page, "signoff-review-what-is-approved")

    # The SME approves right there; the home no longer lists the review
    page.get_by_label("Comment").fill("The lower-casing is what we agreed.")
    page.get_by_role("button", name="Approve version 2").click()
    expect(page.locator(".badge.big")).to_have_text("Approved")
    page.goto("/")
    expect(page.get_by_role("region", name=re.compile("Waiting for you"))).not_to_contain_text(
        "waits for your decision"
    )
    screenshot(page, "home-after-approval")
