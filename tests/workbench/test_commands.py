"""The command line acts as a named user; refusals exit non-zero with a one-line reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import UserFactory
from workbench.demo import DEMO_SLUG, load_demo
from workbench.models import Engagement, GlossaryTerm, Membership

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


def test_create_engagement_as_the_default_superuser(admin, capsys):
    call_command("create_engagement", "globex-360", "--name", "Globex 360", "--client", "Globex")
    assert capsys.readouterr().out == "created engagement globex-360: Globex 360\n"
    engagement = Engagement.objects.get(slug="globex-360")
    assert engagement.history.get().history_user == admin
    assert Membership.objects.get(engagement=engagement).user == admin


def test_create_engagement_as_a_named_user(admin):
    lena = UserFactory(username="lena")
    lena.user_permissions.add(Permission.objects.get(codename="add_engagement"))
    call_command("create_engagement", "globex-360", "--name", "Globex", "--as", "lena")
    assert Engagement.objects.get().created_by == lena


def test_a_user_without_the_right_is_refused(admin):
    UserFactory(username="bao")
    with pytest.raises(CommandError, match="not allowed to create engagements"):
        call_command("create_engagement", "x", "--name", "X", "--as", "bao")
    assert not Engagement.objects.exists()


def test_a_duplicate_slug_is_refused_on_one_line(admin):
    call_command("create_engagement", "globex-360", "--name", "Globex")
    with pytest.raises(CommandError) as refused:
        call_command("create_engagement", "globex-360", "--name", "Again")
    assert str(refused.value) == "slug: Engagement with this Slug already exists."
    assert Engagement.objects.count() == 1


def test_an_unknown_acting_user_is_refused(admin):
    with pytest.raises(CommandError, match="No active user named 'ghost'"):
        call_command("create_engagement", "x", "--name", "X", "--as", "ghost")


def test_load_demo_is_idempotent(db, capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "password for all: workbench-demo" in out
    assert "  ba        Bao Analyst       Tech BA" in out
    history_rows = GlossaryTerm.history.count() + Membership.history.count()

    call_command("load_demo")
    assert GlossaryTerm.history.count() + Membership.history.count() == history_rows
    assert Engagement.objects.filter(slug=DEMO_SLUG).count() == 1


def test_the_demo_has_a_user_for_every_role(db):
    engagement = load_demo()
    roles = set(engagement.memberships.values_list("role", flat=True))
    assert roles == {
        "implementation_lead",
        "tech_ba",
        "etl_developer",
        "client_sme",
        "client_ops",
        "viewer",
    }
    assert engagement.signoff_owners.count() == 2


def test_a_refused_command_exits_non_zero_with_one_line_on_stderr(tmp_path):
    """As a user runs it: a real process, its exit status and its stderr."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "PATH": "/usr/bin:/bin"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
    result = subprocess.run(
        [*manage, "create_engagement", "x", "--name", "X"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "CommandError: Name the acting user with --as USER (there is no superuser)."
    ]

    help_text = subprocess.run(
        [*manage, "create_engagement", "--help"], env=env, cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "--as USER" in help_text and "--client" in help_text
