"""Stories of the engagement pages: who sees what, what a form refuses, what HTMX gets back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import (
    PASSWORD,
    EngagementFactory,
    GlossaryTermFactory,
    ReferenceLinkFactory,
    UserFactory,
    member,
)
from workbench.choices import EngagementStatus, Role, SignoffGate
from workbench.models import GlossaryTerm, Membership, SignoffOwner

PAGES = [
    "engagement-dashboard",
    "member-list",
    "signoff-owners",
    "glossary",
    "links",
    "job-list",
]


@pytest.fixture
def as_user(client):
    def log_in(user):
        client.force_login(user)
        return client

    return log_in


def url(name, engagement, *args):
    return reverse(name, args=[engagement.slug, *args])


def test_pages_need_a_login(client, engagement):
    response = client.get(url("engagement-dashboard", engagement))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("name", PAGES)
def test_members_see_every_page(as_user, engagement, viewer, name):
    assert as_user(viewer).get(url(name, engagement)).status_code == 200


@pytest.mark.parametrize("name", [*PAGES, "engagement-settings"])
def test_another_engagements_pages_are_not_found(as_user, engagement, outsider, name):
    assert as_user(outsider).get(url(name, engagement)).status_code == 404


def test_a_job_of_another_engagement_is_not_found(as_user, engagement, ba, outsider):
    other = outsider.memberships.get().engagement
    from workbench.models import Job

    job = Job.objects.create(kind="demo.countdown", engagement=other)
    assert as_user(ba).get(url("job-detail", engagement, job.pk)).status_code == 404
    assert as_user(outsider).get(url("job-detail", engagement, job.pk)).status_code == 404


def test_the_engagement_list_shows_only_my_engagements(as_user, engagement, ba, outsider):
    response = as_user(ba).get(reverse("engagement-list"))
    assert list(response.context["engagements"]) == [engagement]


def test_the_engagement_list_counts_every_member_not_only_me(as_user, engagement, lead, ba, sme):
    response = as_user(ba).get(reverse("engagement-list"))
    assert [e.member_count for e in response.context["engagements"]] == [3]


def test_staff_see_every_engagement(as_user, engagement, outsider, staff):
    response = as_user(staff).get(reverse("engagement-list"))
    assert {e.slug for e in response.context["engagements"]} == {"acme-360", "other-engagement"}


def test_logging_in_with_the_form(client, engagement, ba):
    response = client.post(reverse("login"), {"username": "ba", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(url("engagement-dashboard", engagement)).status_code == 200


def test_a_wrong_password_is_refused_on_the_form(client, ba):
    response = client.post(reverse("login"), {"username": "ba", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def _dashboard_queries(client, engagement) -> tuple[int, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("engagement-dashboard", engagement))
    return len(queries), response


def test_the_dashboard_shows_six_phases_with_bounded_queries(as_user, engagement, lead):
    client = as_user(lead)
    GlossaryTermFactory(engagement=engagement, term="Term x")
    few, _ = _dashboard_queries(client, engagement)
    for i in range(30):
        member(engagement, Role.VIEWER)
        GlossaryTermFactory(engagement=engagement, term=f"Term {i}")
    many, response = _dashboard_queries(client, engagement)

    assert many == few  # the count does not grow with the data
    assert many <= 40  # a few per phase output, whatever the size
    phases = response.context["phases"]
    assert [card.phase.label for card in phases] == [
        "Orientation & intake",
        "Source understanding",
        "Interface review & mapping",
        "ETL build & unit test",
        "Validation with client",
        "Deployment & enablement",
    ]
    glossary_state = dict((o.key, s) for o, s in phases[0].outputs)["glossary"]
    assert glossary_state.detail == "31 terms"


@pytest.mark.parametrize("name", ["member-list", "glossary", "links"])
def test_list_pages_keep_a_bounded_number_of_queries(
    as_user, engagement, lead, name, django_assert_max_num_queries
):
    for i in range(40):
        member(engagement, Role.VIEWER)
        GlossaryTermFactory(engagement=engagement, term=f"T{i}")
        ReferenceLinkFactory(engagement=engagement)
    client = as_user(lead)
    with django_assert_max_num_queries(6):
        assert client.get(url(name, engagement)).status_code == 200


def test_creating_an_engagement_from_the_form(as_user, db):
    from django.contrib.auth.models import Permission

    creator = UserFactory(username="lena")
    creator.user_permissions.add(Permission.objects.get(codename="add_engagement"))
    response = as_user(creator).post(
        reverse("engagement-create"), {"slug": "globex-360", "name": "Globex 360"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(engagement__slug="globex-360").user == creator


def test_a_duplicate_slug_on_the_form_shows_the_error(as_user, engagement):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    response = as_user(admin).post(
        reverse("engagement-create"), {"slug": "acme-360", "name": "Again"}
    )
    assert response.status_code == 200
    assert "Engagement with this Slug already exists." in response.content.decode()


def test_a_user_without_the_permission_cannot_open_the_create_form(as_user, ba):
    assert as_user(ba).get(reverse("engagement-create")).status_code == 403


def test_the_lead_adds_a_member_through_htmx_and_gets_the_fragment(as_user, engagement, lead):
    UserFactory(username="bao")
    response = as_user(lead).post(
        url("member-list", engagement),
        {"username": "bao", "role": Role.TECH_BA},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="members">')
    assert 'data-member="bao"' in body


def test_an_unknown_user_is_refused_on_the_members_form(as_user, engagement, lead):
    response = as_user(lead).post(
        url("member-list", engagement), {"username": "ghost", "role": Role.TECH_BA}
    )
    assert "There is no active user named &#x27;ghost&#x27;." in response.content.decode()
    assert engagement.memberships.count() == 1


def test_an_unknown_role_is_refused_on_the_members_form(as_user, engagement, lead):
    UserFactory(username="bao")
    response = as_user(lead).post(url("member-list", engagement), {"username": "bao", "role": "x"})
    assert "Select a valid choice" in response.content.decode()
    assert engagement.memberships.count() == 1


def test_a_ba_cannot_add_members(as_user, engagement, ba):
    UserFactory(username="bao")
    response = as_user(ba).post(
        url("member-list", engagement), {"username": "bao", "role": Role.VIEWER}
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user__username="bao").exists()


def test_the_lead_changes_a_role_and_removes_a_member(as_user, engagement, lead, ba):
    client = as_user(lead)
    membership = engagement.memberships.get(user=ba)
    client.post(url("member-change", engagement, membership.pk), {"role": Role.VIEWER})
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER

    client.post(url("member-change", engagement, membership.pk), {"remove": "1"})
    assert not engagement.memberships.filter(user=ba).exists()


def test_removing_the_last_lead_shows_why(as_user, engagement, lead):
    own = engagement.memberships.get(user=lead)
    response = as_user(lead).post(
        url("member-change", engagement, own.pk), {"remove": "1"}, follow=True
    )
    assert "An engagement needs at least one Implementation Lead." in response.content.decode()
    assert engagement.memberships.filter(pk=own.pk).exists()


def test_a_member_of_another_engagement_cannot_be_changed_here(as_user, engagement, lead, outsider):
    foreign = outsider.memberships.get()
    response = as_user(lead).post(url("member-change", engagement, foreign.pk), {"remove": "1"})
    assert response.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_naming_signoff_owners(as_user, engagement, lead, sme):
    client = as_user(lead)
    response = client.post(
        url("signoff-owners", engagement), {"gate": SignoffGate.MAPPING, "username": "sme"}
    )
    assert response.status_code == 302
    assert SignoffOwner.objects.get().user == sme


def test_an_ineligible_owner_is_refused_inline(as_user, engagement, lead, ba):
    response = as_user(lead).post(
        url("signoff-owners", engagement), {"gate": SignoffGate.MAPPING, "username": "ba"}
    )
    assert "must be a member with the role Client SME; ba is Tech BA" in response.content.decode()
    assert not SignoffOwner.objects.exists()


def test_an_sme_cannot_name_owners(as_user, engagement, sme):
    response = as_user(sme).post(
        url("signoff-owners", engagement), {"gate": SignoffGate.MAPPING, "username": "sme"}
    )
    assert response.status_code == 403


def test_glossary_add_edit_delete(as_user, engagement, ba):
    client = as_user(ba)
    client.post(url("glossary", engagement), {"term": "Opt-in", "definition": "Consent."})
    term = GlossaryTerm.objects.get(term="Opt-in")

    client.post(
        url("glossary-edit", engagement, term.pk),
        {"term": "Opt-in", "definition": "Recorded consent.", "synonyms": "consent"},
    )
    term.refresh_from_db()
    assert term.synonym_list == ["consent"]

    client.post(url("glossary-edit", engagement, term.pk), {"delete": "1"})
    assert not GlossaryTerm.objects.filter(pk=term.pk).exists()
    assert [h.history_type for h in GlossaryTerm.history.order_by("history_id")] == ["+", "~", "-"]


def test_a_duplicate_term_is_refused_on_the_form(as_user, engagement, ba):
    GlossaryTermFactory(engagement=engagement, term="Customer")
    response = as_user(ba).post(
        url("glossary", engagement), {"term": "Customer", "definition": "Again"}
    )
    assert "This term is already in the glossary." in response.content.decode()
    assert GlossaryTerm.objects.count() == 1


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CLIENT_OPS, Role.ETL_DEVELOPER])
def test_roles_without_the_right_cannot_change_the_glossary(as_user, engagement, role):
    term = GlossaryTermFactory(engagement=engagement)
    client = as_user(member(engagement, role))
    assert (
        client.post(url("glossary", engagement), {"term": "X", "definition": "Y"}).status_code
        == 403
    )
    assert (
        client.post(url("glossary-edit", engagement, term.pk), {"delete": "1"}).status_code == 403
    )
    assert GlossaryTerm.objects.count() == 1


def test_links_add_and_refuse_a_bad_url(as_user, engagement, ba):
    client = as_user(ba)
    response = client.post(
        url("links", engagement), {"kind": "mart_docs", "title": "Docs", "url": "nope"}
    )
    assert "Enter a valid URL." in response.content.decode()
    client.post(
        url("links", engagement),
        {"kind": "mart_docs", "title": "Docs", "url": "https://docs.example.test/"},
    )
    assert engagement.links.get().title == "Docs"


def test_a_viewer_cannot_change_links(as_user, engagement, viewer):
    link = ReferenceLinkFactory(engagement=engagement)
    client = as_user(viewer)
    assert client.post(url("link-edit", engagement, link.pk), {"delete": "1"}).status_code == 403
    assert engagement.links.filter(pk=link.pk).exists()


def test_settings_move_status_and_phase(as_user, engagement, lead):
    response = as_user(lead).post(
        url("engagement-settings", engagement),
        {"name": "Acme 360", "status": EngagementStatus.ON_HOLD, "current_phase": 2},
    )
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert (engagement.status, engagement.current_phase) == (EngagementStatus.ON_HOLD, 2)


def test_settings_refuse_a_forbidden_status_move(as_user, engagement, lead):
    engagement.status = EngagementStatus.CLOSED
    engagement.save()
    response = as_user(lead).post(
        url("engagement-settings", engagement),
        {"name": "Acme 360", "status": EngagementStatus.ACTIVE, "current_phase": 1},
    )
    assert "cannot move from Closed to Active" in response.content.decode()
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.CLOSED


def test_a_ba_cannot_open_settings(as_user, engagement, ba):
    assert as_user(ba).get(url("engagement-settings", engagement)).status_code == 403


def test_starting_the_demo_job_from_the_page(
    as_user, engagement, ba, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(ba).post(url("job-list", engagement), {"steps": 2})
    job = engagement.jobs.get()
    assert response["Location"] == url("job-detail", engagement, job.pk)
    job.refresh_from_db()
    assert (job.state, job.progress, job.result) == ("succeeded", 100, {"steps": 2})


def test_the_job_page_polls_until_finished(as_user, engagement, ba):
    from workbench.models import Job

    job = Job.objects.create(kind="demo.countdown", engagement=engagement, progress=40)
    client = as_user(ba)
    fragment = client.get(url("job-detail", engagement, job.pk), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in fragment.content.decode()
    assert fragment.content.decode().lstrip().startswith('<section id="job-progress"')

    Job.objects.filter(pk=job.pk).update(state="succeeded", progress=100)
    finished = client.get(url("job-detail", engagement, job.pk), HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in finished.content.decode()


def test_a_viewer_cannot_start_jobs(as_user, engagement, viewer):
    assert as_user(viewer).post(url("job-list", engagement), {"steps": 2}).status_code == 403
    assert not engagement.jobs.exists()


def test_another_engagements_slug_never_leaks_its_name(as_user, outsider, engagement):
    other = EngagementFactory(slug="secret-project", name="Top Secret")
    response = as_user(outsider).get(reverse("engagement-dashboard", args=[other.slug]))
    assert response.status_code == 404
    assert "Top Secret" not in response.content.decode()


def test_a_new_members_role_starts_at_viewer(as_user, engagement, lead):
    page = as_user(lead).get(url("member-list", engagement))
    form = page.context["form"]
    assert form["role"].value() == Role.VIEWER
    assert f'<option value="{Role.VIEWER}" selected>' in page.content.decode()
