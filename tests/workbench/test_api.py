"""The REST API under /api/v1/: every endpoint with its allowed and its forbidden cases."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.factories import GlossaryTermFactory, ReferenceLinkFactory, UserFactory
from workbench import services
from workbench.models import GlossaryTerm, Job, Membership, ReferenceLink, SignoffOwner

BASE = "/api/v1/engagements/acme-360"


@pytest.fixture
def api():
    def as_user(user=None):
        client = APIClient()
        if user:
            client.force_authenticate(user)
        return client

    return as_user


@pytest.fixture
def term(engagement):
    return GlossaryTermFactory(engagement=engagement, term="Customer")


@pytest.fixture
def link(engagement):
    return ReferenceLinkFactory(engagement=engagement)


# (method, path, payload, the fixture name of a user allowed to do it)
def endpoints(term_id=0, link_id=0, member_id=0, invitee_id=0):
    return [
        ("get", f"{BASE}/", None, "viewer"),
        ("patch", f"{BASE}/", {"client": "Acme Group"}, "lead"),
        ("post", f"{BASE}/set-status/", {"status": "on_hold"}, "lead"),
        ("post", f"{BASE}/set-phase/", {"current_phase": 2}, "lead"),
        ("post", f"{BASE}/demo-job/", {"steps": 1, "pause": 0}, "ba"),
        ("get", f"{BASE}/members/", None, "viewer"),
        ("post", f"{BASE}/members/", {"username": "newbie", "role": "viewer"}, "lead"),
        ("post", f"{BASE}/members/invite/", {"name": "Nina New", "email": "nina@c.test"}, "lead"),
        ("patch", f"{BASE}/members/{member_id}/", {"role": "client_ops"}, "lead"),
        ("post", f"{BASE}/members/{invitee_id}/resend-invitation/", None, "lead"),
        ("delete", f"{BASE}/members/{member_id}/", None, "lead"),
        ("get", f"{BASE}/signoff-owners/", None, "viewer"),
        ("post", f"{BASE}/signoff-owners/", {"gate": "mapping", "username": "sme"}, "lead"),
        ("get", f"{BASE}/glossary/", None, "viewer"),
        ("get", f"{BASE}/glossary/{term_id}/", None, "viewer"),
        ("post", f"{BASE}/glossary/", {"term": "Opt-in", "definition": "Consent."}, "sme"),
        ("patch", f"{BASE}/glossary/{term_id}/", {"definition": "A person."}, "sme"),
        ("delete", f"{BASE}/glossary/{term_id}/", None, "ba"),
        ("get", f"{BASE}/links/", None, "viewer"),
        ("get", f"{BASE}/links/{link_id}/", None, "viewer"),
        ("post", f"{BASE}/links/", {"title": "ERD", "url": "https://erd.example.test/"}, "ba"),
        (
            "put",
            f"{BASE}/links/{link_id}/",
            {"kind": "other", "title": "Moved", "url": "https://x.example.test/"},
            "ba",
        ),
        ("delete", f"{BASE}/links/{link_id}/", None, "ba"),
    ]


@pytest.fixture
def world(engagement, lead, ba, sme, viewer, outsider, term, link):
    UserFactory(username="newbie")
    ops_member = Membership.objects.create(
        engagement=engagement, user=UserFactory(username="opsy"), role="viewer"
    )
    invitee = UserFactory(username="invitee", email="invitee@c.test")
    invitee.set_unusable_password()
    invitee.save()
    invited = Membership.objects.create(engagement=engagement, user=invitee, role="viewer")
    users = {"lead": lead, "ba": ba, "sme": sme, "viewer": viewer, "outsider": outsider}
    return users, endpoints(term.pk, link.pk, ops_member.pk, invited.pk)


def _call(client, method, path, payload):
    return getattr(client, method)(path, payload, format="json")


def _snapshot():
    return (
        User.objects.count(),
        list(Membership.objects.values_list("id", "role").order_by("id")),
        list(GlossaryTerm.objects.values_list("id", "term", "definition").order_by("id")),
        list(ReferenceLink.objects.values_list("id", "title").order_by("id")),
        list(SignoffOwner.objects.values_list("gate", "user_id").order_by("gate")),
        Job.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("index", range(len(endpoints())))
def test_each_endpoint_answers_its_allowed_user(
    api, world, index, django_capture_on_commit_callbacks
):
    users, table = world
    method, path, payload, allowed = table[index]
    with django_capture_on_commit_callbacks(execute=True):
        response = _call(api(users[allowed]), method, path, payload)
    assert response.status_code in (200, 201, 202, 204), response.content


@pytest.mark.django_db
@pytest.mark.parametrize("index", range(len(endpoints())))
def test_each_endpoint_hides_the_engagement_from_outsiders(api, world, index):
    users, table = world
    method, path, payload, _allowed = table[index]
    before = _snapshot()
    response = _call(api(users["outsider"]), method, path, payload)
    assert response.status_code == 404
    assert _snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("index", range(len(endpoints())))
def test_each_endpoint_needs_authentication(api, world, index):
    _users, table = world
    method, path, payload, _allowed = table[index]
    before = _snapshot()
    response = _call(api(), method, path, payload)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert _snapshot() == before


WRITES = [i for i, row in enumerate(endpoints()) if row[0] != "get"]


@pytest.mark.django_db
@pytest.mark.parametrize("index", WRITES)
def test_each_write_is_forbidden_to_a_viewer(api, world, index):
    users, table = world
    method, path, payload, _allowed = table[index]
    before = _snapshot()
    response = _call(api(users["viewer"]), method, path, payload)
    assert response.status_code == 403
    assert "does not allow this" in response.json()["detail"]
    assert _snapshot() == before


def test_token_authentication(engagement, ba):
    _token, key = services.token_create(name="script", days=30, acting_user=ba)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/engagements/")
    assert [e["slug"] for e in response.json()["results"]] == ["acme-360"]


def test_the_list_shows_only_my_engagements(api, engagement, ba, outsider):
    response = api(outsider).get("/api/v1/engagements/")
    assert [e["slug"] for e in response.json()["results"]] == ["other-engagement"]


def test_creating_an_engagement_through_the_api(api, db):
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    response = api(admin).post(
        "/api/v1/engagements/", {"slug": "globex", "name": "Globex 360"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["created_by"] == "admin"


def test_a_duplicate_slug_is_a_400_with_the_field_message(api, engagement):
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    response = api(admin).post(
        "/api/v1/engagements/", {"slug": "acme-360", "name": "Again"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"slug": ["Engagement with this Slug already exists."]}


def test_creating_an_engagement_needs_the_permission(api, ba):
    response = api(ba).post("/api/v1/engagements/", {"slug": "x", "name": "X"}, format="json")
    assert response.status_code == 403


def test_a_member_for_an_unknown_user_is_a_400(api, engagement, lead):
    response = api(lead).post(
        f"{BASE}/members/", {"username": "ghost", "role": "viewer"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"user": ["There is no active user named 'ghost'."]}
    assert engagement.memberships.count() == 1


def test_an_unknown_role_is_a_400(api, engagement, lead):
    UserFactory(username="bao")
    response = api(lead).post(
        f"{BASE}/members/", {"username": "bao", "role": "wizard"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"role": ['"wizard" is not a valid choice.']}


def test_a_forbidden_status_move_is_a_400(api, engagement, lead):
    api(lead).post(f"{BASE}/set-status/", {"status": "closed"}, format="json")
    response = api(lead).post(f"{BASE}/set-status/", {"status": "active"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"status": ["An engagement cannot move from Closed to Active."]}


def test_removing_the_last_lead_is_a_400(api, engagement, lead):
    own = engagement.memberships.get(user=lead)
    response = api(lead).delete(f"{BASE}/members/{own.pk}/")
    assert response.status_code == 400
    assert response.json() == {"detail": ["An engagement needs at least one Implementation Lead."]}


def test_a_duplicate_glossary_term_is_a_400(api, engagement, ba, term):
    response = api(ba).post(
        f"{BASE}/glossary/", {"term": "Customer", "definition": "Again"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": ["This term is already in the glossary."]}


def test_a_malformed_payload_is_a_400_not_a_500(api, engagement, ba):
    response = api(ba).post(f"{BASE}/glossary/", "not json", content_type="application/json")
    assert response.status_code == 400


def test_the_demo_job_runs_and_its_row_is_readable(
    api, engagement, ba, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        started = api(ba).post(f"{BASE}/demo-job/", {"steps": 2, "pause": 0}, format="json")
    assert started.status_code == 202
    job = api(ba).get(f"/api/v1/jobs/{started.json()['id']}/").json()
    assert (job["state"], job["progress"], job["result"]) == ("succeeded", 100, {"steps": 2})


def test_jobs_of_other_engagements_are_invisible(api, engagement, ba, outsider):
    job = Job.objects.create(kind="demo.countdown", engagement=engagement, started_by=ba)
    assert api(outsider).get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert api(outsider).get("/api/v1/jobs/").json()["results"] == []


def test_credentials_never_appear_in_membership_payloads(api, engagement, viewer):
    members = api(viewer).get(f"{BASE}/members/").json()["results"]
    assert all(set(m) == {"id", "username", "full_name", "role", "added_at"} for m in members)


def test_the_openapi_schema_and_docs_are_served_without_a_cdn(client, viewer):
    client.force_login(viewer)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/engagements/{engagement_slug}/glossary/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower()


def test_a_url_no_api_route_matches_answers_json_404_not_the_html_page(client, ba, engagement):
    client.force_login(ba)
    answer = client.get(f"/api/v1/engagements/{engagement.slug}/signoff/uat-items/not-a-number/")
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "Not found."}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
