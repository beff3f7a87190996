"""Settings come from the environment; production-like variables give a clean deploy check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-0123456789",
    "ALLOWED_HOSTS": "workbench.acme.example",
    "SITE_URL": "https://workbench.acme.example",  # links in e-mails (workbench.W001 without it)
    "DATABASE_URL": "sqlite:////tmp/unused.sqlite3",
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_the_deploy_check_is_clean_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_debug_a_secret_key_is_required():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_database_url_chooses_the_database():
    expected = os.environ.get("DATABASE_URL", "sqlite")
    vendor = "postgresql" if expected.startswith("postgres") else "sqlite"
    assert connection.vendor == vendor


def test_without_redis_url_tasks_run_eagerly():
    if os.environ.get("REDIS_URL"):
        assert os.environ["REDIS_URL"] == settings.CELERY_BROKER_URL
        assert settings.CELERY_TASK_ALWAYS_EAGER is False
    else:
        assert settings.CELERY_TASK_ALWAYS_EAGER is True


@pytest.mark.postgres
def test_the_migrations_apply_on_a_fresh_postgresql_database(require_postgres):
    """Whatever database this run uses, the schema must also build on PostgreSQL."""
    import psycopg

    name = f"wb_migrations_{os.getpid()}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{name}"')
        pg.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}"}
        env.pop("REDIS_URL", None)
        result = manage("migrate", "--no-input", env=env)
        assert result.returncode == 0, result.stderr
        assert manage("load_demo", env=env).returncode == 0
    finally:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
