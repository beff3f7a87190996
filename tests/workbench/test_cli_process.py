"""The engagement core from the command line: members, the engagements one sees, the phase
tracker. Every command acts `--as` a user, is refused by the same policy (saying which role may),
and prints one JSON document with `--format json`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from tests.clirun import refused, run, run_json
from tests.factories import member
from workbench.choices import Role
from workbench.models import Membership

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def role_of(engagement, username: str) -> str | None:
    return (
        Membership.objects.filter(engagement=engagement, user__username=username)
        .values_list("role", flat=True)
        .first()
    )


# --- add_member ----------------------------------------------------------------------------------


def test_the_lead_adds_a_tech_ba_by_the_stored_role_name(engagement, lead):
    member_user = User.objects.create_user("bao")

    output = run("add_member", "--engagement", "acme-360", "--as", lead.username, "bao", "tech_ba")

    assert output == "added bao to acme-360 as Tech BA\n"
    membership = Membership.objects.get(engagement=engagement, user=member_user)
    assert membership.role == Role.TECH_BA
    assert membership.history.get().history_user == lead


def test_the_role_can_be_typed_as_its_label_in_any_case(engagement, lead):
    User.objects.create_user("ed")

    data = run_json(
        "add_member", "--engagement", "acme-360", "--as", lead.username, "ed", "etl DEVELOPER"
    )

    assert data == {
        "engagement": "acme-360",
        "user": "ed",
        "role": "etl_developer",
        "role_label": "ETL Developer",
        "created": False,
        "invited": False,
    }
    assert role_of(engagement, "ed") == Role.ETL_DEVELOPER


def test_a_viewer_cannot_add_members_and_is_told_who_may(engagement, viewer):
    User.objects.create_user("bao")

    error = refused("add_member", "--engagement", "acme-360", "--as", "viewer", "bao", "tech_ba")

    assert str(error) == (
        "Your role in acme-360 does not allow this (manage members); "
        "only an Implementation Lead may."
    )
    assert error.returncode == 1
    assert role_of(engagement, "bao") is None


def test_an_unknown_role_is_refused_with_the_valid_roles(engagement, lead):
    User.objects.create_user("bao")

    error = refused(
        "add_member", "--engagement", "acme-360", "--as", lead.username, "bao", "architect"
    )

    assert str(error) == (
        "Unknown role 'architect'; choose one of: implementation_lead (Implementation Lead), "
        "tech_ba (Tech BA), etl_developer (ETL Developer), client_sme (Client SME), "
        "client_ops (Client Ops (L2)), viewer (Viewer)."
    )
    assert role_of(engagement, "bao") is None


def test_adding_an_unknown_user_says_how_to_create_them(engagement, lead):
    error = refused(
        "add_member", "--engagement", "acme-360", "--as", lead.username, "zoe", "viewer"
    )
    assert str(error) == (
        "There is no active user named 'zoe'; --create --email ADDRESS --name NAME invites them."
    )


def test_adding_someone_twice_is_refused_on_one_line(engagement, lead, ba):
    error = refused("add_member", "--engagement", "acme-360", "--as", lead.username, "ba", "viewer")

    assert str(error) == "This user is already a member of the engagement."
    assert role_of(engagement, "ba") == Role.TECH_BA


def test_create_makes_the_user_with_the_password_from_the_environment(
    engagement, lead, monkeypatch
):
    monkeypatch.setenv("SME_PASSWORD", "a-long-enough-secret")

    data = run_json(
        "add_member",
        "--engagement",
        "acme-360",
        "--as",
        lead.username,
        "sara",
        "Client SME",
        "--create",
        "--email",
        "sara@client.test",
        "--password-env",
        "SME_PASSWORD",
    )

    assert data["created"] is True and data["role"] == "client_sme"
    sara = User.objects.get(username="sara")
    assert sara.check_password("a-long-enough-secret")
    assert sara.email == "sara@client.test"
    assert role_of(engagement, "sara") == Role.CLIENT_SME


@pytest.mark.parametrize("value", [None, ""], ids=["missing", "empty"])
def test_create_refuses_a_missing_or_empty_password_variable(engagement, lead, monkeypatch, value):
    monkeypatch.delenv("SME_PASSWORD", raising=False)
    if value is not None:
        monkeypatch.setenv("SME_PASSWORD", value)

    error = refused(
        "add_member",
        "--engagement",
        "acme-360",
        "--as",
        lead.username,
        "sara",
        "client_sme",
        "--create",
        "--password-env",
        "SME_PASSWORD",
    )

    assert str(error) == (
        "The environment variable SME_PASSWORD is not set or empty; "
        "it must hold the new user's password."
    )
    assert not User.objects.filter(username="sara").exists()


def test_create_refuses_a_weak_password_and_creates_nobody(engagement, lead, monkeypatch):
    monkeypatch.setenv("SME_PASSWORD", "short")

    error = refused(
        "add_member",
        *("--engagement", "acme-360", "--as", lead.username, "sara", "client_sme"),
        *("--create", "--password-env", "SME_PASSWORD"),
    )

    assert str(error).startswith("password: This password is too short.")
    assert not User.objects.filter(username="sara").exists()


def test_create_by_a_viewer_creates_no_account(engagement, viewer, monkeypatch):
    monkeypatch.setenv("SME_PASSWORD", "a-long-enough-secret")

    error = refused(
        "add_member",
        *("--engagement", "acme-360", "--as", "viewer", "sara", "client_sme"),
        *("--create", "--password-env", "SME_PASSWORD"),
    )

    assert "only an Implementation Lead may" in str(error)
    assert not User.objects.filter(username="sara").exists()


def test_create_of_an_existing_username_is_refused(engagement, lead, ba, monkeypatch):
    monkeypatch.setenv("PW", "a-long-enough-secret")
    error = refused(
        "add_member",
        *("--engagement", "acme-360", "--as", lead.username, "ba", "viewer"),
        *("--create", "--password-env", "PW"),
    )
    assert str(error) == "user: A user named 'ba' already exists; add them without creating."


def test_create_without_an_email_or_a_password_variable_is_a_usage_error(engagement, lead):
    error = refused(
        "add_member", "--engagement", "acme-360", "--as", lead.username, "x", "viewer", "--create"
    )
    assert error.returncode == 2
    assert str(error) == (
        "--create needs --email and --name (the person is e-mailed a link to set their password) "
        "or --password-env VAR."
    )
    assert not User.objects.filter(username="x").exists()


# --- list_members and remove_member --------------------------------------------------------------


def test_list_members_as_json_lead_first(engagement, lead, ba, viewer):
    data = run_json("list_members", "--engagement", "acme-360", "--as", "viewer")

    assert [(m["user"], m["role"]) for m in data["members"]] == [
        (lead.username, "implementation_lead"),
        ("ba", "tech_ba"),
        ("viewer", "viewer"),
    ]
    text = run("list_members", "--engagement", "acme-360", "--as", "viewer")
    assert text.splitlines()[1].startswith("ba                   Tech BA")


def test_someone_of_another_engagement_cannot_list_its_members(engagement, outsider):
    error = refused("list_members", "--engagement", "acme-360", "--as", "outsider")
    assert "does not allow this (view)" in str(error)


def test_the_lead_removes_a_member_with_history(engagement, lead, ba):
    output = run("remove_member", "--engagement", "acme-360", "--as", lead.username, "ba")

    assert output == "removed ba (Tech BA) from acme-360\n"
    assert role_of(engagement, "ba") is None
    assert Membership.history.filter(history_type="-").get().history_user == lead


def test_removing_is_refused_for_a_tech_ba_and_for_the_last_lead(engagement, lead, ba):
    error = refused("remove_member", "--engagement", "acme-360", "--as", "ba", lead.username)
    assert "only an Implementation Lead may" in str(error)

    error = refused(
        "remove_member", "--engagement", "acme-360", "--as", lead.username, lead.username
    )
    assert str(error) == "An engagement needs at least one Implementation Lead."

    error = refused("remove_member", "--engagement", "acme-360", "--as", lead.username, "nobody")
    assert str(error) == "'nobody' is not a member of acme-360."
    assert Membership.objects.filter(engagement=engagement).count() == 2


# --- list_engagements, engagement_status, create_engagement --------------------------------------


def test_list_engagements_shows_only_those_the_user_belongs_to(engagement, ba, outsider):
    data = run_json("list_engagements", "--as", "outsider")

    assert data["user"] == "outsider"
    assert [(e["slug"], e["role"], e["members"]) for e in data["engagements"]] == [
        ("other-engagement", "tech_ba", 2)
    ]
    assert run("list_engagements", "--as", "ba").startswith("acme-360 ")


def test_engagement_status_is_the_phase_tracker_as_json(engagement, lead, ba, sme):
    data = run_json("engagement_status", "--engagement", "acme-360", "--as", "ba")

    assert [phase["number"] for phase in data["phases"]] == [1, 2, 3, 4, 5, 6]
    orientation = data["phases"][0]
    members = orientation["outputs"][0]
    assert (members["key"], members["name"], members["state"]) == (
        "members",
        "Members and roles",
        "in_progress",
    )
    assert members["detail"] == "3 members; missing ETL Developer"
    in_production = data["phases"][5]["outputs"][-1]
    assert (in_production["key"], in_production["state"]) == ("in_production", "not_started")

    member(engagement, Role.ETL_DEVELOPER, "etl")
    data = run_json("engagement_status", "--engagement", "acme-360", "--as", "ba")
    assert data["phases"][0]["outputs"][0]["state"] == "done"

    text = run("engagement_status", "--engagement", "acme-360", "--as", "ba")
    assert "   [x] Members and roles — 4 members" in text.splitlines()


def test_engagement_status_of_another_engagement_is_refused(engagement, outsider):
    error = refused("engagement_status", "--engagement", "acme-360", "--as", "outsider")
    assert "does not allow this (view)" in str(error)


def test_create_engagement_reports_as_json(db):
    User.objects.create_superuser("admin")
    data = run_json("create_engagement", "globex", "--name", "Globex 360")
    assert data == {"slug": "globex", "name": "Globex 360", "lead": "admin"}


# --- usage errors: a real process exits 2 (argparse), before touching the database ---------------


@pytest.mark.parametrize(
    "args",
    [
        ["add_member", "--engagement", "acme-360"],
        ["decide_review", "--engagement", "acme-360", "7", "--approve", "--reject"],
        ["request_review", "--engagement", "acme-360", "--gate"],
        ["engagement_status", "--engagement", "acme-360", "--format", "yaml"],
    ],
    ids=["missing-user", "approve-and-reject", "gate-without-value", "unknown-format"],
)
def test_a_usage_error_exits_2_with_the_usage_on_stderr(args, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"manage.py {args[0]}: error:" in result.stderr


def test_every_new_command_has_help(capsys):
    for command in [
        "add_member",
        "list_members",
        "remove_member",
        "list_engagements",
        "engagement_status",
        "publish_contract",
        "request_review",
        "list_reviews",
        "decide_review",
        "raise_uat",
        "tick_cutover",
        "set_signoff_owner",
    ]:
        with pytest.raises(SystemExit) as exited:
            call_command(command, "--help")
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert "--format {text,json}" in out and "--as USER" in out, command


# --- set_signoff_owner ---------------------------------------------------------------------------


def test_the_lead_names_the_sme_owner_of_the_mapping_signoff(engagement, lead, sme):
    output = run(
        "set_signoff_owner", "--engagement", "acme-360", "--as", lead.username, "mapping", "sme"
    )

    assert output == "sme owns the Mapping sign-off of acme-360\n"
    owner = engagement.signoff_owners.get()
    assert (owner.gate, owner.user, owner.history.get().history_user) == ("mapping", sme, lead)


def test_naming_an_owner_is_refused_for_a_wrong_role_or_a_tech_ba(engagement, lead, ba, sme):
    error = refused(
        "set_signoff_owner", "--engagement", "acme-360", "--as", lead.username, "mapping", "ba"
    )
    assert str(error) == (
        "user: The Mapping sign-off owner must be a member with the role Client SME; ba is Tech BA."
    )
    error = refused(
        "set_signoff_owner", "--engagement", "acme-360", "--as", "ba", "ETL sign-off", "sme"
    )
    assert "(manage signoff owners); only an Implementation Lead may." in str(error)
    assert not engagement.signoff_owners.exists()
