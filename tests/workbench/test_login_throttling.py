"""Someone guesses a user's password through the login page: after ten wrong passwords that user
name is locked for a while (django-axes), even for the right password, with a page saying so."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import PASSWORD
from workbench.services import token_create

pytestmark = pytest.mark.django_db


def log_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def guess_ten_times(client, username: str) -> None:
    for attempt in range(9):
        answer = log_in(client, username, f"wrong-{attempt}")
        assert answer.status_code == 200  # the login form again, with its error
        assert b"Please enter a correct" in answer.content
    assert log_in(client, username, "wrong-10").status_code == 429  # the tenth locks


def test_ten_wrong_passwords_lock_the_user_name_even_for_the_right_password(client, ba):
    guess_ten_times(client, ba.username)

    refused = log_in(client, ba.username, PASSWORD)

    assert refused.status_code == 429
    assert b"Too many failed logins" in refused.content
    assert b"after 10 wrong passwords" in refused.content
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_from_another_address_and_other_users_still_log_in(client, ba, sme):
    guess_ten_times(client, ba.username)

    elsewhere = client.post(
        reverse("login"),
        {"username": ba.username, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
    )
    assert elsewhere.status_code == 429
    assert log_in(client, sme.username, PASSWORD).status_code == 302


def test_an_administrator_unlocks_the_user_name(client, ba):
    guess_ten_times(client, ba.username)
    assert log_in(client, ba.username, PASSWORD).status_code == 429

    call_command("axes_reset_username", ba.username)

    assert log_in(client, ba.username, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(ba.pk)


def test_the_lock_lifts_after_the_cool_off(client, ba, settings):
    guess_ten_times(client, ba.username)
    assert log_in(client, ba.username, PASSWORD).status_code == 429

    # Time passes: the failures are now older than the cool-off.
    past = dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)
    AccessAttempt.objects.filter(username=ba.username).update(attempt_time=past)

    assert log_in(client, ba.username, PASSWORD).status_code == 302


def test_nine_wrong_passwords_then_the_right_one_logs_in_and_clears_the_count(client, ba):
    for attempt in range(9):
        log_in(client, ba.username, f"wrong-{attempt}")
    assert log_in(client, ba.username, PASSWORD).status_code == 302
    client.logout()
    for attempt in range(9):  # counting starts again: nine more do not lock
        log_in(client, ba.username, f"wrong-{attempt}")
    assert log_in(client, ba.username, PASSWORD).status_code == 302


def test_an_api_token_still_works_while_the_password_login_is_locked(client, ba, engagement):
    _, key = token_create(name="nightly export", days=30, acting_user=ba)
    guess_ten_times(client, ba.username)

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(f"/api/v1/engagements/{engagement.slug}/").status_code == 200
