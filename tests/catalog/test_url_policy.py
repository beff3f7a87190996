"""The Mart URL policy, told as an attacker's attempts: a Tech BA tries to register the app's own
database (or any file on the server) as a Mart to profile its users, tokens and sessions; every
door (API, page, command line, a URL stored before the policy, a test run) refuses."""

from __future__ import annotations

import html
import os
import sqlite3

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.management.commands.introspect_mart import Command as IntrospectMart
from catalog.models import CatalogColumn, SourceSystem
from catalog.services import sources as services
from catalog.services import url_policy
from catalog.services.profiling import catalog_profile
from catalog.services.url_policy import APP_DATABASE, check_mart_url
from tests.factories import SourceSystemFactory
from workbench.choices import JobState

pytestmark = pytest.mark.django_db

BASE = "/api/v1/engagements/acme-360"
APP_PG = {"ENGINE": "django.db.backends.postgresql", "NAME": "workbench", "HOST": "localhost"}
MISSING_DRIVER = "The driver for mysql is not installed (pip install mysqlclient)."


@pytest.fixture
def api(ba):
    client = APIClient()
    client.force_authenticate(ba)
    return client


@pytest.fixture
def app_db(app_sqlite_database) -> str:
    """The SQLite file the app keeps its users, tokens and sessions in."""
    return app_sqlite_database


@pytest.fixture
def app_db_link(app_db, tmp_path):
    link = tmp_path / "innocent_mart.sqlite3"
    link.symlink_to(app_db)
    return link


def _app_db_spellings(app_db: str, app_db_link) -> list[str]:
    return [
        f"sqlite:///{app_db}",
        f"sqlite:///{os.path.relpath(app_db)}",
        f"sqlite:///{app_db_link}",
        f"sqlite:///file:{app_db}?mode=ro&uri=true",
    ]


def _refusal(url: str) -> str:
    with pytest.raises(ValidationError) as refused:
        check_mart_url(url)
    assert list(refused.value.message_dict) == ["url"]
    return refused.value.message_dict["url"][0]


def test_the_apps_sqlite_database_is_refused_in_every_spelling_through_the_api(
    api, app_db, app_db_link
):
    for url in _app_db_spellings(app_db, app_db_link):
        # When the BA registers the app's database (absolute, relative, a symlink, a URI)
        response = api.post(f"{BASE}/sources/", {"name": "Mart", "url": url}, format="json")

        # Then it is a 400 naming the reason, and nothing is registered
        assert response.status_code == 400, url
        assert response.json() == {"url": [APP_DATABASE]}
    assert not SourceSystem.objects.exists()


def test_the_apps_database_is_a_form_error_on_the_page(client, ba, engagement, app_db, app_db_link):
    client.force_login(ba)
    for url in _app_db_spellings(app_db, app_db_link):
        response = client.post(
            reverse("source-list", args=[engagement.slug]), {"name": "Mart", "url": url}
        )

        assert response.status_code == 400, url
        assert APP_DATABASE in html.unescape(response.content.decode())
    assert not SourceSystem.objects.exists()


def test_introspect_mart_refuses_the_apps_database_in_one_line(
    engagement, ba, app_db, app_db_link, capsys, monkeypatch
):
    # run_from_argv closes the connections afterwards: the test's transaction must survive it
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    for url in _app_db_spellings(app_db, app_db_link):
        argv = ["manage.py", "introspect_mart", "--engagement", engagement.slug, "--as", "ba"]
        with pytest.raises(SystemExit) as exited:
            IntrospectMart().run_from_argv([*argv, "--url", url])

        assert exited.value.code != 0
        assert capsys.readouterr().err == f"CommandError: url: {APP_DATABASE}\n"
    assert not SourceSystem.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://reader@127.0.0.1/workbench",
        "postgresql://reader@localhost:5432/workbench",
        "postgresql+psycopg://reader:pw@localhost/workbench",
        "postgresql+psycopg2://reader@[::1]:5432/workbench",
        "postgres://reader@127.0.0.1/workbench",
        "postgresql:///workbench",
        "postgresql://reader@/workbench?host=/var/run/postgresql",
        # the drivers take the query as connection arguments: they win over the URL's parts
        "postgresql+psycopg://reader@mart.acme/mart?dbname=workbench&host=127.0.0.1",
        "postgresql+psycopg://reader@mart.acme/workbench?host=mart.acme:5432,localhost:5432",
    ],
)
def test_the_apps_postgresql_database_is_refused_in_every_spelling(api, monkeypatch, url):
    # Given the app runs on PostgreSQL database "workbench" on this machine
    monkeypatch.setattr(url_policy, "app_database_settings", lambda: [APP_PG])

    response = api.post(f"{BASE}/sources/", {"name": "Mart", "url": url}, format="json")

    assert response.status_code == 400
    assert response.json() == {"url": [APP_DATABASE]}


def test_a_libpq_service_is_refused_as_it_could_name_any_database():
    assert _refusal("postgresql+psycopg://reader@/?service=app") == (
        "A Mart URL cannot name a libpq service; give its host, port and database instead."
    )


def test_another_database_on_the_apps_server_is_still_a_mart(monkeypatch):
    monkeypatch.setattr(url_policy, "app_database_settings", lambda: [APP_PG])

    check_mart_url("postgresql+psycopg://reader@localhost/mart")
    check_mart_url("postgresql+psycopg://reader@localhost:5433/workbench")


def test_etc_passwd_and_files_outside_the_allowed_dirs_are_refused(settings, tmp_path):
    outside = tmp_path / "elsewhere.sqlite3"
    sqlite3.connect(outside).close()
    settings.WORKBENCH_MART_SQLITE_DIRS = [tmp_path / "marts"]

    assert _refusal("sqlite:////etc/passwd") == (
        "The database file /etc/passwd is outside the directories allowed for Mart files "
        f"({tmp_path / 'marts'}); an administrator sets WORKBENCH_MART_SQLITE_DIRS."
    )
    assert _refusal(f"sqlite:///{tmp_path}/marts/../elsewhere.sqlite3").startswith(
        f"The database file {tmp_path}/marts/../elsewhere.sqlite3 is outside the directories"
    )


def test_a_file_that_is_no_sqlite_database_is_refused(tmp_path):
    fake = tmp_path / "passwd.sqlite3"
    fake.write_text("root:x:0:0:root:/root:/bin/bash\n")

    assert _refusal(f"sqlite:///{fake}") == f"The file {fake} is not a SQLite database."
    assert _refusal(f"sqlite:///{tmp_path}/none.db") == (
        f"The SQLite file {tmp_path}/none.db does not exist."
    )


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "duckdb:///:memory:"])
def test_a_memory_database_is_refused(url):
    assert _refusal(url) == (
        "An in-memory database is not a Mart; give the path of a database file."
    )


def test_the_host_allow_list_refuses_other_hosts(settings):
    settings.WORKBENCH_MART_HOSTS = ["mart.acme.internal"]

    check_mart_url("postgresql+psycopg://reader@mart.acme.internal/mart")
    assert _refusal("postgresql+psycopg://reader@mart.acme.internal/m?host=10.0.0.5").startswith(
        "The Mart host '10.0.0.5' is not allowed"
    )
    assert _refusal("postgresql+psycopg://reader@10.0.0.5/mart") == (
        "The Mart host '10.0.0.5' is not allowed (allowed: mart.acme.internal); "
        "an administrator sets WORKBENCH_MART_HOSTS."
    )


def test_a_url_stored_before_the_policy_is_refused_when_used(
    engagement, ba, app_db, django_capture_on_commit_callbacks
):
    # Given a source registered before the policy existed, pointing at the app's database
    source = SourceSystemFactory(engagement=engagement, url=f"sqlite:///{app_db}")

    # When it is introspected, then the job fails with the reason and reads nothing
    with django_capture_on_commit_callbacks(execute=True):
        job = services.introspection_start(source=source, acting_user=ba)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == APP_DATABASE
    assert not source.tables.exists()
    # and "test connection" says so too
    with pytest.raises(ValidationError) as refused:
        services.source_system_test(source=source, acting_user=ba)
    assert refused.value.message_dict == {"url": [APP_DATABASE]}


def test_a_missing_driver_is_a_400_naming_the_package(api, engagement):
    # When the BA registers a MySQL Mart and no MySQL driver is installed
    response = api.post(
        f"{BASE}/sources/", {"name": "Mart", "url": "mysql://u@h/db"}, format="json"
    )

    # Then a 400 names the package to install (no server error)
    assert response.status_code == 400
    assert response.json() == {"url": [MISSING_DRIVER]}
    assert _refusal("mysql+mysqlconnector://u@h/db") == (
        "The driver for mysql+mysqlconnector is not installed (pip install mysql-connector-python)."
    )
    # while PyMySQL, a main dependency, makes a MariaDB Mart acceptable
    check_mart_url("mysql+pymysql://root@127.0.0.1:3306/mart")
    check_mart_url("mariadb+pymysql://root@127.0.0.1:3306/mart")
    # and "test connection" on one stored earlier answers the same, not a 500
    stored = SourceSystemFactory(engagement=engagement, url="mysql://u@h/db", dialect="mysql")
    tested = api.post(f"{BASE}/sources/{stored.pk}/test/", {}, format="json")
    assert tested.status_code == 200
    assert tested.json() == {"ok": False, "message": MISSING_DRIVER}


def test_introspect_mart_names_a_missing_driver_in_one_line(engagement, ba):
    from django.core.management import CommandError

    with pytest.raises(CommandError) as failed:
        call_command(
            "introspect_mart",
            "--engagement",
            engagement.slug,
            "--as",
            "ba",
            "--url",
            "mysql://u@h/d",
        )
    assert str(failed.value) == f"url: {MISSING_DRIVER}"


def test_secret_looking_columns_are_profiled_as_counts_only(engagement, ba, tmp_path):
    # Given a Mart with a users table holding password hashes and API tokens
    path = tmp_path / "users.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE app_user (id INTEGER PRIMARY KEY, login TEXT, password_hash TEXT, "
        "api_token TEXT);"
        "INSERT INTO app_user VALUES (1, 'ann', 'pbkdf2$abc', 'tok-1'), (2, 'bob', 'pbkdf2$abc', "
        "'tok-2'), (3, 'cy', NULL, 'tok-2');"
    )
    db.commit()
    db.close()
    source = services.source_system_create(
        engagement=engagement, name="Users", url=f"sqlite:///{path}", acting_user=ba
    )
    services.catalog_introspect(source=source, acting_user=ba)

    # When it is profiled
    catalog_profile(source=source, acting_user=ba)

    # Then the secrets show counts only; an ordinary column keeps its values
    for name, nulls, distinct in (("password_hash", 1, 1), ("api_token", 0, 2)):
        profile = CatalogColumn.objects.get(table__source=source, name=name).profile
        assert (profile.sample_rows, profile.null_count, profile.distinct_count) == (
            3,
            nulls,
            distinct,
        )
        assert (profile.min_value, profile.max_value, profile.top_values, profile.patterns) == (
            "",
            "",
            [],
            [],
        )
        assert (profile.avg_length, profile.max_length) == (None, None)
    login = CatalogColumn.objects.get(table__source=source, name="login").profile
    assert (login.min_value, login.max_value) == ("ann", "cy")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("passwordHash", True),
        ("api_key", True),
        ("secret_key", True),
        ("key", True),
        ("session_key", True),
        ("authtoken", True),
        ("salt", True),
        ("monkey", False),
        ("keyword", False),
        ("customer_key", False),
        ("hashtag", False),
    ],
)
def test_which_column_names_look_like_secrets(name, secret):
    from catalog.services.profiling import is_secret_column

    assert is_secret_column(name) is secret
