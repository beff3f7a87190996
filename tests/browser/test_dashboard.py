"""A Tech BA logs in with the demo users and finds their engagement and its phases."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from workbench.demo import DEMO_PASSWORD, DEMO_SLUG, load_demo

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_demo_tech_ba_logs_in_and_opens_the_dashboard(page):
    load_demo()

    log_in(page, "ba", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Engagements")).to_be_visible()
    page.get_by_role("link", name="Acme Retail — Marketing 360").click()

    expect(page).to_have_url(re.compile(f"/e/{DEMO_SLUG}/$"))
    tracker = page.get_by_role("region", name="Phase tracker")
    expect(tracker.locator(".phase")).to_have_count(6)
    expect(tracker).to_contain_text("Orientation & intake")
    expect(tracker).to_contain_text("Deployment & enablement")
    expect(tracker.locator(".phase[data-phase='1'] .output.done")).to_have_count(4)
    screenshot(page, "dashboard")


def test_an_outsider_gets_not_found_for_the_demo_engagement(page):
    load_demo()

    log_in(page, "outsider", DEMO_PASSWORD)
    expect(page.get_by_text("You are not a member of any engagement yet")).to_be_visible()
    response = page.goto(f"/e/{DEMO_SLUG}/")

    assert response.status == 404


def test_a_job_progress_bar_runs_to_completion(page):
    load_demo()

    log_in(page, "ba", DEMO_PASSWORD)
    page.goto(f"/e/{DEMO_SLUG}/jobs/")
    page.get_by_text("Run the demo job").click()
    page.get_by_label("Steps").fill("3")
    page.get_by_role("button", name="Start demo job").click()

    card = page.locator("#job-progress")
    expect(card).to_have_attribute("data-state", "succeeded", timeout=15_000)
    expect(card.locator(".job-percent")).to_have_text("100%")
    screenshot(page, "job")


def test_a_lead_picks_a_member_invites_a_newcomer_and_a_bad_name_is_refused(page, mailoutbox):
    load_demo()

    log_in(page, "lead", DEMO_PASSWORD)
    page.goto(f"/e/{DEMO_SLUG}/members/")
    add = page.locator("form", has=page.get_by_role("button", name="Add member"))
    add.get_by_label("User", exact=True).fill("nobody-here")
    add.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("There is no active user named 'nobody-here'.")).to_be_visible()

    # Typing part of a name offers the matching users (the picker asks the server).
    # (typed as a person types: the form was just swapped in, and htmx binds its new input as
    # the swap settles)
    add = page.locator("form", has=page.get_by_role("button", name="Add member"))
    add.get_by_label("User", exact=True).clear()
    add.get_by_label("User", exact=True).press_sequentially("Otto", delay=60)
    expect(page.locator("#member-candidates option")).to_have_count(1)
    expect(page.locator("#member-candidates option")).to_have_attribute("value", "outsider")
    add.get_by_label("User", exact=True).fill("outsider")
    expect(add.get_by_label("Role", exact=True)).to_have_value("viewer")  # the default
    add.get_by_role("button", name="Add member").click()
    expect(page.locator("tr[data-member='outsider']")).to_be_visible()

    invite = page.locator("form", has=page.get_by_role("button", name="Invite"))
    invite.get_by_label("Name").fill("Nina van Dijk")
    invite.get_by_label("E-mail").fill("nina@client.test")
    invite.get_by_role("button", name="Invite").click()
    expect(page.get_by_text("a link to set a password went to nina@client.test")).to_be_visible()
    expect(page.locator("tr[data-member='nina'] select")).to_have_value("viewer")
    invitation = mailoutbox[-1]  # (the demo's own notifications came before it)
    assert invitation.to == ["nina@client.test"] and "/password/set/" in invitation.body

    # Her invitation stays marked until she chooses a password; the Lead can send a fresh link
    nina = page.locator("tr[data-member='nina']")
    expect(nina.get_by_text("Invited, no password yet")).to_be_visible()
    nina.get_by_role("button", name="Re-send the invitation to nina").click()
    expect(
        page.get_by_text("A new link to set a password went to nina@client.test.")
    ).to_be_visible()
    assert mailoutbox[-1].to == ["nina@client.test"] and mailoutbox[-1] is not invitation
    screenshot(page, "members")
