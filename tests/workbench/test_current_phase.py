"""The dashboard's current phase comes from the phase outputs; a Lead can override it in
Settings, and the dashboard then shows the override and what the outputs say."""

from __future__ import annotations

import pytest
from django.urls import reverse

from workbench.choices import LinkKind, Phase
from workbench.phases import (
    OutputState,
    OutputStatus,
    PhaseCard,
    PhaseOutput,
    derived_phase,
    phase_cards,
)
from workbench.services import engagement_set_phase, link_create


def _dashboard(client, engagement) -> str:
    return client.get(reverse("engagement-dashboard", args=[engagement.slug])).content.decode()


def test_a_new_engagement_is_in_phase_one_from_its_outputs(client, engagement, viewer):
    assert derived_phase(phase_cards(engagement)) == Phase.ORIENTATION
    client.force_login(viewer)
    page = _dashboard(client, engagement)
    assert "Current phase: <strong>1 · Orientation &amp; intake</strong>" in page
    assert "(from the phase outputs)" in page  # a viewer is not pointed at Settings
    assert "set by hand" not in page


def _cards(*statuses: str) -> list[PhaseCard]:
    """Phase cards whose single output has each status, phase 1 first."""
    return [
        PhaseCard(Phase(n), [(PhaseOutput(f"o{n}", "output"), OutputState(OutputStatus(status)))])
        for n, status in enumerate(statuses, start=1)
    ]


@pytest.mark.parametrize(
    ("statuses", "phase"),
    [
        (["not_started"] * 6, 1),
        (["in_progress"] + ["not_started"] * 5, 1),
        (["done"] + ["not_started"] * 5, 2),
        # work started in phase 3 wins over a phase-1 output still open
        (["in_progress", "done", "in_progress", "not_started", "not_started", "not_started"], 3),
        (["done", "done", "done", "done", "not_started", "not_started"], 5),
        (["done"] * 6, 6),
    ],
)
def test_the_phase_the_outputs_give(statuses, phase):
    assert derived_phase(_cards(*statuses)) == phase


def test_the_dashboard_follows_the_outputs_and_points_a_lead_at_settings(
    client, engagement, lead, ba
):
    # Given phase 1 is under way (members, no links yet)
    link_create(
        engagement=engagement,
        data={"kind": LinkKind.MART_DOCS, "title": "Mart docs", "url": "https://example.com/d"},
        acting_user=lead,
    )
    client.force_login(lead)
    page = _dashboard(client, engagement)
    assert "Current phase: <strong>1 · Orientation &amp; intake</strong>" in page
    assert f'href="/e/{engagement.slug}/settings/">Settings</a>' in page
    assert '<li class="phase in_progress current" data-phase="1">' in page


def test_a_lead_overrides_the_phase_and_the_dashboard_says_so(client, engagement, lead, viewer):
    # When the Lead sets phase 4 in Settings
    client.force_login(lead)
    response = client.post(
        reverse("engagement-settings", args=[engagement.slug]),
        {"name": engagement.name, "status": engagement.status, "current_phase": 4},
    )
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert (engagement.current_phase, engagement.phase_overridden) == (4, True)
    assert engagement.history.latest().history_user == lead
    # Then everyone sees phase 4, marked as set by hand, beside what the outputs say
    client.force_login(viewer)
    page = _dashboard(client, engagement)
    assert "Current phase: <strong>4 · ETL build &amp; unit test</strong>" in page
    assert '<span class="badge phase-overridden">set by hand</span>' in page
    assert "the phase outputs say 1 · Orientation &amp; intake" in page
    assert '<li class="phase not_started current" data-phase="4">' in page
    # And choosing "Follow the phase outputs" lifts the override
    client.force_login(lead)
    client.post(
        reverse("engagement-settings", args=[engagement.slug]),
        {"name": engagement.name, "status": engagement.status, "current_phase": ""},
    )
    engagement.refresh_from_db()
    assert engagement.phase_overridden is False
    assert "set by hand" not in _dashboard(client, engagement)


def test_only_a_lead_overrides_the_phase(client, engagement, ba, outsider):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        engagement_set_phase(engagement=engagement, phase=3, acting_user=ba)
    url = reverse("engagement-settings", args=[engagement.slug])
    client.force_login(ba)
    assert (
        client.post(url, {"name": "x", "status": "active", "current_phase": 3}).status_code == 403
    )
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    engagement.refresh_from_db()
    assert engagement.phase_overridden is False
