"""API tokens users manage themselves: made on the page or by command, shown once, stored as a
hash, refused with a 401 that says why once expired or revoked; the schema and docs need a login."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import UserFactory
from workbench import services
from workbench.models import ApiToken

KEY = re.compile(r"wbt_[A-Za-z0-9_-]{43}")
TOKEN_PAGE = "/tokens/"
ENGAGEMENTS = "/api/v1/engagements/"


def api_with(key: str, scheme: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


def create_on_page(client: Client, name: str = "nightly export", days: str = "30") -> str:
    response = client.post(TOKEN_PAGE, {"name": name, "days": days})
    assert response.status_code == 200
    keys = KEY.findall(response.content.decode())
    assert len(keys) == 1, "the new key is shown exactly once on the page"
    assert response["Cache-Control"] == "no-store"
    return keys[0]


def backdate(token: ApiToken, *, expired_days_ago: int) -> None:
    """Test set-up: a token that ran out `expired_days_ago` days ago."""
    token.created_at = timezone.now() - dt.timedelta(days=expired_days_ago + 30)
    token.expires_at = timezone.now() - dt.timedelta(days=expired_days_ago)
    token.save()


# --- the page -------------------------------------------------------------------------------------


def test_a_ba_creates_a_token_on_the_page_and_lists_her_engagements_with_it(client, ba):
    client.force_login(ba)

    key = create_on_page(client)

    response = api_with(key).get(ENGAGEMENTS)
    assert response.status_code == 200
    assert [e["slug"] for e in response.json()["results"]] == ["acme-360"]
    token = ApiToken.objects.get(user=ba)
    assert token.name == "nightly export"
    assert token.last_used_at is not None
    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    # back on the page later: the token is listed by its prefix, its key is not shown again
    page = client.get(TOKEN_PAGE).content.decode()
    assert token.prefix in page and key not in page
    assert "Active" in page


def test_a_bearer_header_works_as_well(ba):
    _token, key = services.token_create(name="ci", days=30, acting_user=ba)
    assert api_with(key, scheme="Bearer").get(ENGAGEMENTS).status_code == 200


def test_the_raw_key_is_never_stored_only_its_sha256(client, ba):
    client.force_login(ba)
    key = create_on_page(client)

    row = ApiToken.objects.filter(user=ba).values().get()
    assert key not in json.dumps(row, default=str)
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["prefix"] == key[:12]


def test_a_token_cannot_outlive_a_year_or_go_without_a_name(client, ba):
    with pytest.raises(ValidationError) as too_long:
        services.token_create(name="forever", days=366, acting_user=ba)
    assert too_long.value.message_dict == {"days": ["A token lives from 1 to 365 days."]}
    with pytest.raises(ValidationError) as nameless:
        services.token_create(name="   ", days=30, acting_user=ba)
    assert "name" in nameless.value.message_dict
    # on the page, a made-up lifetime is a form error and no token is made
    client.force_login(ba)
    response = client.post(TOKEN_PAGE, {"name": "x", "days": "3650"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_each_user_sees_only_their_own_tokens(client, ba, viewer):
    services.token_create(name="ba's script", days=30, acting_user=ba)
    client.force_login(viewer)
    page = client.get(TOKEN_PAGE).content.decode()
    assert "ba&#x27;s script" not in page and "ba's script" not in page
    assert "You have no API tokens yet." in page


def test_the_token_page_needs_a_login(client, ba):
    token, _key = services.token_create(name="script", days=30, acting_user=ba)

    assert client.get(TOKEN_PAGE)["Location"].startswith(reverse("login"))
    response = client.post(reverse("api-token-revoke", args=[token.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    token.refresh_from_db()
    assert token.revoked_at is None


# --- revoking -------------------------------------------------------------------------------------


def test_a_revoked_token_is_refused_with_a_401_saying_so(client, ba):
    client.force_login(ba)
    key = create_on_page(client)
    token = ApiToken.objects.get(user=ba)

    response = client.post(reverse("api-token-revoke", args=[token.pk]))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.state == "revoked" and token.revoked_by == ba
    refused = api_with(key).get(ENGAGEMENTS)
    assert refused.status_code == 401
    assert refused.json()["detail"].startswith("This API token was revoked on ")
    assert refused["WWW-Authenticate"] == 'Token realm="api"'


def test_another_users_token_cannot_be_revoked_it_is_not_found(client, ba, outsider):
    token, key = services.token_create(name="ba's script", days=30, acting_user=ba)
    client.force_login(outsider)

    response = client.post(reverse("api-token-revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api_with(key).get(ENGAGEMENTS).status_code == 200


def test_the_revoke_service_refuses_anyone_but_the_owner(ba, outsider):
    token, _key = services.token_create(name="script", days=30, acting_user=ba)
    with pytest.raises(PermissionDenied, match="You can manage only your own API tokens."):
        services.token_revoke(token=token, acting_user=outsider)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_needs_a_post_with_the_csrf_token(ba):
    token, _key = services.token_create(name="script", days=30, acting_user=ba)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ba)
    url = reverse("api-token-revoke", args=[token.pk])

    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403  # a forged form from another site: no CSRF token
    token.refresh_from_db()
    assert token.revoked_at is None

    page = browser.get(TOKEN_PAGE).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf is not None
    assert browser.post(url, {"csrfmiddlewaretoken": csrf.group(1)}).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


# --- refusals at the API --------------------------------------------------------------------------


def test_an_expired_token_is_refused_with_a_401_naming_the_day(ba):
    token, key = services.token_create(name="old script", days=30, acting_user=ba)
    backdate(token, expired_days_ago=2)

    response = api_with(key).get(ENGAGEMENTS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    day = f"{token.expires_at:%Y-%m-%d %H:%M} UTC"
    assert response.json()["detail"] == f"This API token expired on {day}. Create a new one."


def test_no_credentials_or_a_wrong_key_is_a_401_with_www_authenticate(db):
    anonymous = APIClient().get(ENGAGEMENTS)
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == 'Token realm="api"'

    wrong = api_with("wbt_" + "x" * 43).get(ENGAGEMENTS)
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "Invalid token."

    malformed = APIClient().get(ENGAGEMENTS, HTTP_AUTHORIZATION="Token two parts")
    assert malformed.status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(ba):
    _token, key = services.token_create(name="script", days=30, acting_user=ba)
    ba.is_active = False
    ba.save()
    response = api_with(key).get(ENGAGEMENTS)
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_a_token_grants_no_more_than_its_owner_may_do(viewer):
    """Authenticated but not allowed stays 403, as with a session."""
    _token, key = services.token_create(name="script", days=30, acting_user=viewer)
    response = api_with(key).patch(f"{ENGAGEMENTS}acme-360/", {"client": "X"}, format="json")
    assert response.status_code == 403


# --- schema and docs ------------------------------------------------------------------------------


def test_the_schema_needs_credentials_and_the_docs_a_login(client, ba):
    anonymous_schema = APIClient().get("/api/schema/")
    assert anonymous_schema.status_code == 401
    assert anonymous_schema["WWW-Authenticate"] == 'Token realm="api"'
    docs = client.get("/api/docs/")
    assert docs.status_code == 302
    assert docs["Location"] == f"{reverse('login')}?next=/api/docs/"

    _token, key = services.token_create(name="codegen", days=30, acting_user=ba)
    schema = api_with(key).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    client.force_login(ba)
    assert client.get("/api/docs/").status_code == 200


# --- the command ----------------------------------------------------------------------------------


def test_an_operator_creates_a_token_for_a_user_by_command(ba):
    out = io.StringIO()
    call_command(
        "create_api_token",
        "--as",
        "ba",
        "--name",
        "etl",
        "--days",
        "365",
        "--format",
        "json",
        stdout=out,
    )

    printed = json.loads(out.getvalue())
    assert printed["user"] == "ba" and printed["name"] == "etl"
    assert api_with(printed["key"]).get(ENGAGEMENTS).status_code == 200
    token = ApiToken.objects.get(user=ba)
    assert token.expires_at - token.created_at == dt.timedelta(days=365)


def test_the_command_refuses_a_missing_owner_or_a_lifetime_over_a_year(ba):
    with pytest.raises(CommandError, match="Name the token's owner with --as USER."):
        call_command("create_api_token", "--name", "etl")
    with pytest.raises(CommandError, match="A token lives from 1 to 365 days."):
        call_command("create_api_token", "--as", "ba", "--name", "etl", "--days", "400")
    with pytest.raises(CommandError, match="No active user named 'nobody'."):
        call_command("create_api_token", "--as", "nobody", "--name", "etl")
    assert not ApiToken.objects.exists()


# --- tokens from before -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_old_authtoken_keys_move_over_hashed_for_90_days_and_their_table_is_dropped():
    """An installation that had rest_framework.authtoken: its clear-text keys become hashed
    tokens that expire 90 days after the migration, and the clear-text table is gone."""
    ba = UserFactory(username="ba")
    old_key = "0123456789abcdef0123456789abcdef01234567"
    executor = MigrationExecutor(connection)
    executor.migrate([("workbench", "0004_api_token")])
    key_column = connection.ops.quote_name("key")  # a reserved word in some dialects
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE authtoken_token ({key_column} varchar(40) PRIMARY KEY, "
            "created timestamp NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO authtoken_token ({key_column}, created, user_id) VALUES (%s, %s, %s)",
            [old_key, timezone.now() - dt.timedelta(days=400), ba.pk],
        )

    executor = MigrationExecutor(connection)  # a fresh graph, as `migrate` would load it
    try:
        executor.migrate([("workbench", "0005_api_token_from_authtoken")])

        assert "authtoken_token" not in connection.introspection.table_names()
        token = ApiToken.objects.get(user=ba)
        assert token.key_hash == hashlib.sha256(old_key.encode()).hexdigest()
        assert token.prefix == old_key[:12]
        remaining = token.expires_at - timezone.now()
        assert dt.timedelta(days=89) < remaining <= dt.timedelta(days=90)
    finally:
        # the latest schema again, for the tests that follow
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert api_with(old_key).get(ENGAGEMENTS).status_code == 200


# --- admin ----------------------------------------------------------------------------------------


def test_a_superuser_sees_tokens_in_the_admin_without_keys_and_can_revoke_one(client, ba):
    token, key = services.token_create(name="leaked", days=30, acting_user=ba)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)

    change = client.get(reverse("admin:workbench_apitoken_change", args=[token.pk]))
    assert change.status_code == 200 and key not in change.content.decode()
    response = client.post(
        reverse("admin:workbench_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == root
    assert api_with(key).get(ENGAGEMENTS).status_code == 401
