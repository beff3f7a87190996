"""An operator deploys the workbench as the README's "Production" section says: DEBUG off, a real
secret key, gunicorn behind a TLS proxy, collected static files, SMTP from the environment,
SITE_URL for the links in e-mails, the demo job switched off."""

from __future__ import annotations

import os
import secrets
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse

from workbench import checks, services
from workbench.choices import NotificationKind
from workbench.models import Job, Notification

BASE_DIR = Path(__file__).resolve().parents[2]
HOST = "workbench.example.com"


def production_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment the README documents for production, on a throw-away var/ directory."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
        SITE_URL=f"https://{HOST}",
        WORKBENCH_VAR_DIR=str(var_dir),
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="587",
        EMAIL_USE_TLS="true",
    )
    env.update(overrides)
    return env


def setting_values(code: str, env: dict[str, str]) -> str:
    """What `code` prints in a Django shell started with `env` (the last line of its output)."""
    done = manage("shell", "--no-imports", "-c", code, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- check --deploy ---------------------------------------------------------------------------


def test_the_documented_production_settings_pass_check_deploy_with_no_warning(tmp_path):
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNINGS" not in output and "ERRORS" not in output


def test_check_deploy_warns_an_operator_who_forgot_site_url(tmp_path):
    env = production_env(tmp_path)
    del env["SITE_URL"]

    done = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert done.returncode != 0
    assert "workbench.W001" in done.stderr and "SITE_URL is not set" in done.stderr


def test_the_site_url_check_is_quiet_in_development_and_wants_an_absolute_address(settings):
    settings.DEBUG, settings.SITE_URL = True, ""
    assert checks.site_url_check() == []
    settings.DEBUG, settings.SITE_URL = False, "workbench.example.com"
    assert [w.id for w in checks.site_url_check()] == ["workbench.W002"]
    settings.SITE_URL = "https://workbench.example.com"
    assert checks.site_url_check() == []


# --- gunicorn and collected static files ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str]:
    """A request as the TLS proxy forwards it (Host and X-Forwarded-Proto)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": HOST, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


class Gunicorn:
    """gunicorn with the Dockerfile's command line (one worker, a local port)."""

    def __init__(self, env: dict[str, str]):
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "workbench.wsgi:application"]
            + ["--bind", f"127.0.0.1:{self.port}", "--workers", "1"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def __enter__(self) -> Gunicorn:
        for _ in range(600):  # wait until it answers (not a timing assertion)
            if self.process.poll() is not None:
                pytest.fail("gunicorn exited at start")
            try:
                if _get(self.port, "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail("gunicorn did not answer /healthz")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def test_gunicorn_serves_pages_and_static_files_once_collectstatic_ran(tmp_path):
    env = production_env(tmp_path)

    # Before collectstatic a page naming a static file cannot be rendered (no manifest): the
    # very 500 the README's set-up step avoids.
    with Gunicorn(env) as server:
        assert _get(server.port, "/login/")[0] == 500

    collected = manage("collectstatic", "--no-input", env=env)
    assert collected.returncode == 0, collected.stderr

    with Gunicorn(env) as server:
        status, html = _get(server.port, "/login/")
        assert status == 200
        assert "Log in" in html
        # Static files carry their content hash and are served by WhiteNoise under gunicorn.
        css = next(part.split('"')[0] for part in html.split('href="')[1:] if "/app." in part)
        assert css.startswith("/static/css/app.") and css.endswith(".css") and css.count(".") == 2
        status, body = _get(server.port, css)
        assert status == 200 and ".htmx-indicator" in body


# --- e-mail ------------------------------------------------------------------------------------


class FlakyBackend(EmailBackend):
    """An SMTP server that drops the connection on the first attempt, then accepts mail."""

    attempts = 0

    def send_messages(self, email_messages):
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts == 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(email_messages)


@pytest.mark.django_db
def test_a_notification_email_is_retried_after_an_smtp_failure_and_sent_once(
    engagement, ba, sme, lead, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    settings.SITE_URL = "https://workbench.example.com"
    FlakyBackend.attempts = 0

    # When the BA mentions the SME and the lead, and the mail server fails on the first e-mail
    with django_capture_on_commit_callbacks(execute=True):
        notes = services.notify(
            [sme, lead],
            engagement=engagement,
            kind=NotificationKind.MENTIONED,
            subject="Have a look",
            body="At the customer entity.",
            url="/e/acme-360/mapping/",
            actor=ba,
        )

    # Then the task tried again: each recipient got exactly one e-mail, with an absolute link
    assert FlakyBackend.attempts == 3  # the failure, then one send per recipient
    assert sorted(m.to[0] for m in mailoutbox) == sorted([sme.email, lead.email])
    for message in mailoutbox:
        assert message.body.endswith("\n\nhttps://workbench.example.com/e/acme-360/mapping/")
    assert all(n.emailed_at for n in Notification.objects.filter(pk__in=[n.pk for n in notes]))


@pytest.mark.django_db
def test_a_retry_after_a_failure_half_way_does_not_email_twice(
    engagement, ba, sme, lead, settings, mailoutbox
):
    """The server accepts the first e-mail and drops the second: the retry sends the second only."""
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    notes = services.notify(
        [sme, lead],
        engagement=engagement,
        kind=NotificationKind.MENTIONED,
        subject="Hello",
        body="",
        url="",
        actor=ba,
    )
    FlakyBackend.attempts = -1  # the first send passes, the second fails once
    original = FlakyBackend.send_messages

    def fail_on_second(self, messages):
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts == 1:
            raise smtplib.SMTPServerDisconnected("dropped")
        return EmailBackend.send_messages(self, messages)

    FlakyBackend.send_messages = fail_on_second  # type: ignore[method-assign]
    try:
        from workbench.tasks import send_notification_emails

        send_notification_emails.delay([n.pk for n in notes])
    finally:
        FlakyBackend.send_messages = original  # type: ignore[method-assign]

    assert sorted(m.to[0] for m in mailoutbox) == sorted([sme.email, lead.email])
    assert {m.body for m in mailoutbox} == {"Hello"}  # no link line for a notification without url


def test_links_stay_relative_without_site_url_as_in_development(settings):
    settings.SITE_URL = ""
    assert services.absolute_url("/e/x/") == "/e/x/"
    settings.SITE_URL = "https://wb.example.com/"
    assert services.absolute_url("/e/x/") == "https://wb.example.com/e/x/"
    assert services.absolute_url("e/x/") == "https://wb.example.com/e/x/"


def test_email_settings_come_from_the_environment(tmp_path):
    env = production_env(
        tmp_path,
        EMAIL_HOST="mail.client.example",
        EMAIL_PORT="465",
        EMAIL_HOST_USER="workbench",
        EMAIL_HOST_PASSWORD="s3cret",
        EMAIL_USE_TLS="false",
        EMAIL_USE_SSL="true",
        EMAIL_TIMEOUT="7",
        DEFAULT_FROM_EMAIL="Workbench <wb@client.example>",
    )
    code = (
        "from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
        "s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL, s.EMAIL_TIMEOUT, "
        "s.DEFAULT_FROM_EMAIL, sep='|')"
    )
    assert setting_values(code, env).split("|") == [
        "django.core.mail.backends.smtp.EmailBackend",
        "mail.client.example",
        "465",
        "workbench",
        "s3cret",
        "False",
        "True",
        "7",
        "Workbench <wb@client.example>",
    ]

    both = manage("check", env={**env, "EMAIL_USE_TLS": "true"})
    assert both.returncode != 0 and "Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both." in both.stderr


# --- the demo job ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_in_production_the_demo_job_answers_404_and_is_not_offered(
    engagement, ba, client, settings
):
    from rest_framework.test import APIClient

    settings.WORKBENCH_DEMO_JOB = False
    client.force_login(ba)
    jobs_url = reverse("job-list", args=[engagement.slug])

    page = client.get(jobs_url)
    assert page.status_code == 200
    assert b"demo job" not in page.content

    assert client.post(jobs_url, {"steps": 2}).status_code == 404
    api = APIClient()
    api.force_authenticate(ba)
    answer = api.post(f"/api/v1/engagements/{engagement.slug}/demo-job/", {"steps": 1})
    assert answer.status_code == 404
    assert not Job.objects.filter(kind="demo.countdown").exists()


@pytest.mark.django_db
def test_in_development_the_demo_job_is_offered(engagement, ba, client, settings):
    settings.WORKBENCH_DEMO_JOB = True
    client.force_login(ba)
    assert b"Start demo job" in client.get(reverse("job-list", args=[engagement.slug])).content


def test_the_demo_job_defaults_to_debug(tmp_path):
    code = "from django.conf import settings as s; print(s.WORKBENCH_DEMO_JOB)"
    assert setting_values(code, production_env(tmp_path)) == "False"
    assert setting_values(code, production_env(tmp_path, DEBUG="true")) == "True"


# --- the documentation holds ------------------------------------------------------------------


def _settings_variables() -> set[str]:
    """The environment variables workbench/settings.py reads."""
    import re

    text = (BASE_DIR / "workbench" / "settings.py").read_text()
    return set(re.findall(r'(?:environ\.get|env_bool|env_list)\(\s*"([A-Z_]+)"', text))


def test_every_setting_read_from_the_environment_is_documented_for_production():
    readme = (BASE_DIR / "README.md").read_text()
    production = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    missing = {name for name in _settings_variables() if f"`{name}`" not in production}
    assert not missing, missing


def test_the_compose_file_sets_only_variables_the_settings_read():
    import yaml

    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    assert set(compose["x-workbench-env"]) <= _settings_variables()
    assert {"SITE_URL", "EMAIL_HOST", "SECRET_KEY"} <= set(compose["x-workbench-env"])


def test_the_readme_runs_the_dockerfiles_server_command():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    readme = (BASE_DIR / "README.md").read_text()
    command = dockerfile.split("CMD ", 1)[1]
    assert "manage.py collectstatic --no-input" in command
    gunicorn = "gunicorn " + command.split("gunicorn ", 1)[1].split('"')[0]
    assert gunicorn in readme
    assert "manage.py collectstatic --no-input" in readme
    assert '".[deploy]"' not in dockerfile  # gunicorn is a main dependency now
