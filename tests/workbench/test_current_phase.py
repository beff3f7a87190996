"""The dashboard's current phase comes from the phase outputs; a Lead can override it in
Settings, and the dashboard then shows the override and what the outputs say."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tests.clirun import run_json
from tests.factories import (
    CatalogTableFactory,
    EngagementFactory,
    GlossaryTermFactory,
    ReferenceLinkFactory,
    SourceSystemFactory,
)
from workbench.choices import LinkKind, Phase
from workbench.demo import load_demo
from workbench.phases import (
    PHASE_OUTPUTS,
    OutputState,
    OutputStatus,
    PhaseCard,
    PhaseOutput,
    current_phase,
    current_phases,
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


# --- the list, the API and the CLI show the same phase as the dashboard ----------------------------


@pytest.fixture
def three_engagements(engagement, lead):
    """acme-360 fresh (phase 1), globex with its Mart cataloged (phase 2 by its outputs),
    initech set by hand to phase 4 although its outputs say 1."""
    globex = EngagementFactory(slug="globex", name="Globex", created_by=lead)
    CatalogTableFactory(source=SourceSystemFactory(engagement=globex))
    GlossaryTermFactory(engagement=globex)
    ReferenceLinkFactory(engagement=globex, kind=LinkKind.MART_DOCS)
    initech = EngagementFactory(slug="initech", name="Initech", created_by=lead)
    engagement_set_phase(engagement=initech, phase=Phase.ETL_BUILD, acting_user=lead)
    return [engagement, globex, initech]


def test_the_engagement_list_shows_the_phase_the_dashboard_shows(client, lead, three_engagements):
    client.force_login(lead)
    page = client.get(reverse("engagement-list")).content.decode()

    rows = re.findall(r"<td>(\d) · ([^<]+?)(?: <small[^>]*>\(set by hand\)</small>)?</td>", page)
    assert rows == [
        ("1", "Orientation &amp; intake"),  # Acme 360
        ("2", "Source understanding"),  # Globex
        ("4", "ETL build &amp; unit test"),  # Initech
    ]
    assert 'title="The phase outputs say 1 · Orientation &amp; intake">(set by hand)' in page
    for engagement in three_engagements:  # each as its own dashboard says
        assert current_phases([engagement])[engagement.pk] == current_phase(
            engagement, phase_cards(engagement)
        )


def test_every_output_has_the_same_status_in_bulk_as_on_its_dashboard(lead, three_engagements):
    # The demo is far along: a catalog, a published contract, mappings, an approved review, runs.
    engagements = [*three_engagements, load_demo()]
    seen = set()
    for outputs in PHASE_OUTPUTS.values():
        for output in outputs:
            assert output.statuses, f"{output.key} has no bulk status"
            bulk = output.statuses(engagements)
            for engagement in engagements:
                assert bulk[engagement.pk] == output.compute(engagement).status, output.key
                seen.add(bulk[engagement.pk])
    assert seen == set(OutputStatus)  # every status was compared, not only "not started"


def test_the_api_and_the_cli_show_the_derived_phase(lead, three_engagements):
    api = APIClient()
    api.force_authenticate(lead)
    listed = api.get("/api/v1/engagements/").json()["results"]
    one = api.get("/api/v1/engagements/globex/").json()
    cli = run_json("list_engagements", "--as", lead.username)["engagements"]
    status = run_json("engagement_status", "--engagement", "initech", "--as", lead.username)

    expected = [("acme-360", 1, 1, False), ("globex", 2, 2, False), ("initech", 4, 1, True)]
    assert [
        (e["slug"], e["current_phase"], e["derived_phase"], e["phase_overridden"]) for e in listed
    ] == expected
    assert (one["current_phase"], one["derived_phase"]) == (2, 2)
    assert [(e["slug"], e["current_phase"], e["phase_overridden"]) for e in cli] == [
        (slug, phase, overridden) for slug, phase, _, overridden in expected
    ]
    assert (status["current_phase"], status["derived_phase"], status["phase_overridden"]) == (
        4,
        1,
        True,
    )


def test_the_api_filters_engagements_by_the_phase_the_dashboard_shows(lead, three_engagements):
    """Globex is stored at phase 1 but its outputs put it in phase 2; Initech is overridden to 4."""
    api = APIClient()
    api.force_authenticate(lead)

    def listed(phase) -> list[str]:
        answer = api.get(f"/api/v1/engagements/?current_phase={phase}")
        assert answer.status_code == 200, answer.content
        return [e["slug"] for e in answer.json()["results"]]

    assert listed(1) == ["acme-360"]
    assert listed(2) == ["globex"]
    assert listed(4) == ["initech"]
    assert listed(3) == []
    refused = api.get("/api/v1/engagements/?current_phase=9")
    assert refused.status_code == 400
    assert "current_phase" in refused.json()


def test_the_engagement_list_costs_the_same_queries_for_more_engagements(
    client, lead, three_engagements
):
    client.force_login(lead)
    client.get(reverse("engagement-list"))  # sessions and caches warm

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("engagement-list")).status_code == 200
        return len(captured)

    before = queries()
    for n in range(3):
        more = EngagementFactory(slug=f"more-{n}", created_by=lead)
        CatalogTableFactory(source=SourceSystemFactory(engagement=more))
    assert queries() == before
