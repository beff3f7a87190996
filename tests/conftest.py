"""Shared fixtures. Tests that need a real service call `require_*`: without the service they
skip on a developer's machine and fail under CI=true — never a silent skip in CI."""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import sqlite3

import pytest
from django.conf import settings

from workbench import celery_app
from workbench.choices import Role

from .factories import EngagementFactory, UserFactory, member

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_ADDRESS = ("127.0.0.1", 5432)
REDIS_ADDRESS = ("127.0.0.1", 6379)
MARIADB_ADDRESS = ("127.0.0.1", 3306)
CHROMIUM = "/usr/bin/chromium"


def require_module(name: str):
    """The test-only package `name`, imported; missing, it fails under CI and skips elsewhere."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing_service(f"the Python package {name} is not installed")


def pytest_collection_modifyitems(config, items):
    """Stories marked `app_postgresql` are about PostgreSQL as the app's database (its row locks):
    they belong to the PostgreSQL run and are not collected on the embedded SQLite one."""
    from django.conf import settings as django_settings

    if django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    chosen = [i for i in items if i.get_closest_marker("app_postgresql") is None]
    if len(chosen) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in chosen])
        items[:] = chosen


def missing_service(reason: str) -> None:
    """Fail under CI, skip elsewhere."""
    if IN_CI:
        pytest.fail(f"required service missing under CI: {reason}")
    pytest.skip(reason)  # not in CI: a developer without the service


def _reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def require_postgres():
    if not _reachable(POSTGRES_ADDRESS):
        missing_service("PostgreSQL is not reachable on 127.0.0.1:5432")


@pytest.fixture
def require_mariadb():
    if not _reachable(MARIADB_ADDRESS):
        missing_service("MariaDB is not reachable on 127.0.0.1:3306")
    try:
        import pymysql  # noqa: F401 — a main dependency; its absence is a broken install
    except ImportError:
        missing_service("PyMySQL is not installed (pip install 'PyMySQL>=1.1,<2')")


@pytest.fixture
def require_redis():
    if not _reachable(REDIS_ADDRESS):
        missing_service("Redis is not reachable on 127.0.0.1:6379")


@pytest.fixture
def require_chromium():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        missing_service("Chromium is not installed (apt-get install chromium chromium-driver)")


@pytest.fixture(autouse=True)
def celery_eager(request):
    """Tasks run in-process unless a test asks for the real worker (marker `redis`)."""
    if request.node.get_closest_marker("redis"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Hashing passwords properly costs ~0.2 s each; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _marts_in_tmp_dirs(settings, tmp_path_factory):
    """Tests build their Mart files under pytest's temporary root: allow it as a Mart directory
    (next to the default var/), the policy itself unchanged."""
    settings.WORKBENCH_MART_SQLITE_DIRS = [
        *settings.WORKBENCH_MART_SQLITE_DIRS,
        tmp_path_factory.getbasetemp(),
    ]


@pytest.fixture
def app_sqlite_database(monkeypatch, tmp_path) -> str:
    """A SQLite file the policy knows as the app's own database: the test database itself on the
    embedded set-up; on PostgreSQL, a SQLite file added to the app's databases the policy sees."""
    from catalog.services import url_policy

    default = settings.DATABASES["default"]
    name = str(default["NAME"])
    if str(default["ENGINE"]).endswith("sqlite3") and os.path.isfile(name):
        return name
    path = tmp_path / "workbench.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE auth_user (id INTEGER PRIMARY KEY, password TEXT)")
    connection.close()
    app_databases = url_policy.app_database_settings
    monkeypatch.setattr(
        url_policy,
        "app_database_settings",
        lambda: [*app_databases(), {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}],
    )
    return str(path)


@pytest.fixture
def engagement(db):
    return EngagementFactory(slug="acme-360", name="Acme 360")


@pytest.fixture
def lead(engagement):
    return engagement.created_by


@pytest.fixture
def ba(engagement):
    return member(engagement, Role.TECH_BA, "ba")


@pytest.fixture
def sme(engagement):
    return member(engagement, Role.CLIENT_SME, "sme")


@pytest.fixture
def viewer(engagement):
    return member(engagement, Role.VIEWER, "viewer")


@pytest.fixture
def outsider(db):
    """A user of another engagement only."""
    other = EngagementFactory(slug="other-engagement")
    return member(other, Role.TECH_BA, "outsider")


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True)


def pytest_report_header(config):
    return [
        f"database: {settings.DATABASES['default']['ENGINE']}",
        f"celery broker: {settings.CELERY_BROKER_URL.split('@')[-1]}",
        f"CI: {IN_CI}",
    ]


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local Spark session for the whole run (the JVM starts once; tests/spark.py). Without
    pyspark or Java it fails under CI=true."""
    from .spark import start_session

    session = start_session(tmp_path_factory.mktemp("spark"))
    yield session
    session.stop()
