"""Stories of finding and inviting members: the picker suggests users only to who manages
members; a Lead invites someone without an account, who sets a password through a one-time link."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from rest_framework.test import APIClient

from tests.clirun import refused, run_json
from tests.factories import UserFactory
from workbench.choices import Role
from workbench.models import Membership

pytestmark = pytest.mark.django_db

BASE = "/api/v1/engagements/acme-360"


@pytest.fixture
def people(db):
    """Users of the site who are not in the engagement yet (one has left the company)."""
    UserFactory(username="anna", first_name="Anna", last_name="Berg", email="anna@client.test")
    UserFactory(username="hannes", first_name="Hannes", last_name="Kim", email="hk@agency.test")
    UserFactory(username="annika", first_name="Annika", last_name="Ode", is_active=False)


def candidates(client, engagement, typed: str):
    response = client.get(reverse("member-candidates", args=[engagement.slug]), {"username": typed})
    return response, re.findall(r'<option value="([^"]+)"', response.content.decode())


def test_the_lead_picks_a_user_by_part_of_their_name_or_email(client, engagement, lead, people):
    client.force_login(lead)

    assert candidates(client, engagement, "ann")[1] == ["anna", "hannes"]
    assert candidates(client, engagement, "berg")[1] == ["anna"]
    assert candidates(client, engagement, "agency.test")[1] == ["hannes"]
    assert candidates(client, engagement, "anna berg")[1] == ["anna"]  # every word must match
    response, found = candidates(client, engagement, "anna")
    assert "Anna Berg · anna@client.test" in response.content.decode()

    # A member already in is not offered again; one character lists nobody.
    client.post(
        reverse("member-list", args=[engagement.slug]), {"username": "anna", "role": "viewer"}
    )
    assert candidates(client, engagement, "ann")[1] == ["hannes"]
    assert candidates(client, engagement, "a")[1] == []


def test_the_members_page_wires_the_picker_to_its_search(client, engagement, lead):
    client.force_login(lead)
    body = client.get(reverse("member-list", args=[engagement.slug])).content.decode()
    assert 'list="member-candidates"' in body and '<datalist id="member-candidates">' in body
    assert f'hx-get="{reverse("member-candidates", args=[engagement.slug])}"' in body


@pytest.mark.parametrize("who, status", [("viewer", 403), ("ba", 403), ("outsider", 404)])
def test_the_user_directory_is_not_shown_to_who_cannot_manage_members(
    client, engagement, people, request, who, status
):
    client.force_login(request.getfixturevalue(who))
    response, found = candidates(client, engagement, "ann")
    assert response.status_code == status
    assert found == [] and "anna" not in response.content.decode()


def test_the_search_needs_a_login(client, engagement, people):
    response, found = candidates(client, engagement, "ann")
    assert response.status_code == 302 and found == []


def _link(message) -> str:
    return re.search(r"https?://\S+|/password/set/\S+", message.body).group(0)


def test_a_lead_invites_a_newcomer_who_sets_a_password_once(
    client, engagement, lead, mailoutbox, settings
):
    settings.SITE_URL = "https://workbench.example.test"
    client.force_login(lead)
    page = client.post(
        reverse("member-list", args=[engagement.slug]),
        {"invite": "1", "name": "Nina  van Dijk", "email": "nina.vd@client.test", "role": "viewer"},
        follow=True,
    )

    nina = User.objects.get(email="nina.vd@client.test")
    assert (nina.username, nina.first_name, nina.last_name) == ("nina.vd", "Nina", "van Dijk")
    assert not nina.has_usable_password()
    membership = Membership.objects.get(engagement=engagement, user=nina)
    assert membership.role == Role.VIEWER
    assert membership.history.get().history_user == lead
    assert "a link to set a password went to nina.vd@client.test" in page.content.decode()

    [mail] = mailoutbox
    assert mail.to == ["nina.vd@client.test"]
    assert "added you to Acme 360 as Viewer" in mail.body and "user name is nina.vd" in mail.body
    link = _link(mail)
    assert link.startswith("https://workbench.example.test/password/set/")
    path = link.removeprefix("https://workbench.example.test")

    client.logout()
    form = client.get(path, follow=True)
    assert "User name: <strong>nina.vd</strong>" in form.content.decode()
    password = "a-long-enough-secret-9"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert done.status_code == 302 and done["Location"] == reverse("login")
    logged_in = client.post(reverse("login"), {"username": "nina.vd", "password": password})
    assert logged_in.status_code == 302

    client.logout()
    used = client.get(path, follow=True)
    assert "This link has been used or has expired" in used.content.decode()


def test_a_password_set_link_expires(client, engagement, lead, mailoutbox, monkeypatch):
    client.force_login(lead)
    client.post(
        reverse("member-list", args=[engagement.slug]),
        {"invite": "1", "name": "Nina", "email": "nina@client.test", "role": "viewer"},
    )
    later = dt.datetime.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)

    client.logout()
    page = client.get(_link(mailoutbox[0]), follow=True)
    assert "This link has been used or has expired" in page.content.decode()
    assert not User.objects.get(username="nina").has_usable_password()


def test_a_lead_re_sends_an_expired_invitation_and_the_new_link_works(
    client, engagement, lead, mailoutbox, monkeypatch
):
    # Given Nina was invited, and her link expired before she used it
    client.force_login(lead)
    members = reverse("member-list", args=[engagement.slug])
    client.post(
        members, {"invite": "1", "name": "Nina", "email": "nina@client.test", "role": "viewer"}
    )
    nina = Membership.objects.get(engagement=engagement, user__username="nina")
    later = dt.datetime.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)

    # When the Lead sees her invitation pending on the members page and re-sends it
    page = client.get(members).content.decode()
    assert "Invited, no password yet" in page
    assert page.count("Re-send invitation") == 1  # only Nina: everyone else signs in
    resent = client.post(
        reverse("member-change", args=[engagement.slug, nina.pk]), {"resend": "1"}, follow=True
    )
    assert "A new link to set a password went to nina@client.test." in resent.content.decode()

    # Then the first link stays dead and the new one lets her choose a password
    first, second = mailoutbox
    assert second.to == ["nina@client.test"] and _link(second) != _link(first)
    client.logout()
    assert "has expired" in client.get(_link(first), follow=True).content.decode()
    form = client.get(_link(second), follow=True)
    password = "a-long-enough-secret-9"
    client.post(form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})
    assert User.objects.get(username="nina").check_password(password)


def test_no_invitation_is_re_sent_to_a_member_who_has_a_password(engagement, lead, mailoutbox):
    api = APIClient()
    api.force_authenticate(lead)
    member = Membership.objects.create(
        engagement=engagement, user=UserFactory(username="omar"), role=Role.VIEWER
    )

    response = api.post(f"{BASE}/members/{member.pk}/resend-invitation/")

    assert response.status_code == 400
    assert response.json() == {"user": ["omar has already chosen a password; they can sign in."]}
    assert mailoutbox == []


def test_only_a_lead_re_sends_an_invitation(client, engagement, lead, ba, mailoutbox):
    client.force_login(lead)
    client.post(
        reverse("member-list", args=[engagement.slug]),
        {"invite": "1", "name": "Nina", "email": "nina@client.test", "role": "viewer"},
    )
    nina = Membership.objects.get(engagement=engagement, user__username="nina")
    client.force_login(ba)

    response = client.post(
        reverse("member-change", args=[engagement.slug, nina.pk]), {"resend": "1"}
    )

    assert response.status_code == 403 and len(mailoutbox) == 1


@pytest.mark.parametrize(
    "payload, error",
    [
        (
            {"name": "Anna Two", "email": "ANNA@client.test"},
            {
                "email": [
                    "A user with the e-mail ANNA@client.test already exists; add them by user name."
                ]
            },
        ),
        (
            {"name": "Bad", "email": "not-an-address"},
            {"email": ["'not-an-address' is not a valid e-mail address."]},
        ),
        ({"name": "  ", "email": "new@client.test"}, {"name": ["This field may not be blank."]}),
    ],
    ids=["duplicate-email", "bad-email", "no-name"],
)
def test_an_invitation_is_refused_with_a_clear_error_and_nothing_written(
    engagement, lead, people, mailoutbox, payload, error
):
    api = APIClient()
    api.force_authenticate(lead)
    users, members = User.objects.count(), Membership.objects.count()

    response = api.post(f"{BASE}/members/invite/", payload, format="json")

    assert response.status_code == 400 and response.json() == error
    assert (User.objects.count(), Membership.objects.count(), mailoutbox) == (users, members, [])


def test_only_a_lead_invites(client, engagement, ba, mailoutbox):
    client.force_login(ba)
    response = client.post(
        reverse("member-list", args=[engagement.slug]),
        {"invite": "1", "name": "Nina", "email": "nina@client.test", "role": "viewer"},
    )
    assert response.status_code == 403
    assert not User.objects.filter(email="nina@client.test").exists() and mailoutbox == []


def test_the_api_invites_as_the_page_does_and_defaults_to_viewer(engagement, lead, mailoutbox):
    api = APIClient()
    api.force_authenticate(lead)

    invited = api.post(
        f"{BASE}/members/invite/", {"name": "Nina", "email": "nina@client.test"}, format="json"
    )
    UserFactory(username="omar")
    added = api.post(f"{BASE}/members/", {"username": "omar"}, format="json")

    assert invited.status_code == 201 and invited.json()["role"] == Role.VIEWER
    assert invited.json()["username"] == "nina"
    assert added.status_code == 201 and added.json()["role"] == Role.VIEWER
    assert [m.to for m in mailoutbox] == [["nina@client.test"]]


def test_the_command_invites_with_create_and_defaults_to_viewer(engagement, lead, mailoutbox):
    data = run_json(
        "add_member",
        *("--engagement", "acme-360", "--as", lead.username, "nina", "--create"),
        *("--email", "nina@client.test", "--name", "Nina van Dijk"),
    )
    UserFactory(username="omar")
    plain = run_json("add_member", "--engagement", "acme-360", "--as", lead.username, "omar")

    assert (data["user"], data["role"], data["invited"]) == ("nina", Role.VIEWER, True)
    assert plain["role"] == Role.VIEWER and plain["invited"] is False
    assert not User.objects.get(username="nina").has_usable_password()
    assert [m.to for m in mailoutbox] == [["nina@client.test"]]


def test_the_command_refuses_a_second_account_for_an_e_mail(engagement, lead, people, mailoutbox):
    error = refused(
        "add_member",
        *("--engagement", "acme-360", "--as", lead.username, "anna2", "--create"),
        *("--email", "anna@client.test", "--name", "Anna Again"),
    )
    assert str(error) == (
        "email: A user with the e-mail anna@client.test already exists; add them by user name."
    )
    assert not User.objects.filter(username="anna2").exists() and mailoutbox == []
