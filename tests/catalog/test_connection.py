"""Mart connections: the password is encrypted at rest or read from the environment, never shown
again, never in a job's message; faults end the job failed with a clear message."""

from __future__ import annotations

import logging
import sqlite3

import pytest
import sqlalchemy as sa
from django.core.exceptions import ValidationError

from catalog.models import CatalogTable, SourceSystem
from catalog.services import connection
from catalog.services import sources as services
from catalog.services.profiling import catalog_profile
from tests.factories import SourceSystemFactory
from workbench.choices import JobState
from workbench.jobs import JobError

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-Pa55"


def test_the_password_is_encrypted_at_rest_and_masked_everywhere(engagement, ba):
    source = services.source_system_create(
        engagement=engagement,
        name="Mart",
        url=f"postgresql+psycopg://mart_reader:{SECRET}@db.acme.example:5432/mart",
        acting_user=ba,
    )

    source.refresh_from_db()
    assert source.url == "postgresql+psycopg://mart_reader@db.acme.example:5432/mart"
    assert SECRET not in source.password_encrypted
    assert connection.decrypt_secret(source.password_encrypted) == SECRET
    assert connection.display_url(source) == (
        "postgresql+psycopg://mart_reader:***@db.acme.example:5432/mart"
    )
    assert source.dialect == "postgres"  # the rules' SQL dialect, from the backend
    history = source.history.get()
    assert not hasattr(history, "password_encrypted")


def test_the_encryption_key_comes_from_the_environment_setting(engagement, ba, settings):
    from cryptography.fernet import Fernet

    settings.WORKBENCH_ENCRYPTION_KEY = Fernet.generate_key().decode()
    token = connection.encrypt_secret(SECRET)

    assert Fernet(settings.WORKBENCH_ENCRYPTION_KEY).decrypt(token.encode()).decode() == SECRET
    settings.WORKBENCH_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(JobError, match="cannot be decrypted"):
        connection.decrypt_secret(token)


def test_a_password_can_be_referenced_by_an_environment_variable(engagement, ba, monkeypatch):
    source = services.source_system_create(
        engagement=engagement,
        name="Mart",
        url="postgresql+psycopg://reader@db/mart",
        password_env="ACME_MART_PASSWORD",
        acting_user=ba,
    )
    monkeypatch.setenv("ACME_MART_PASSWORD", SECRET)

    assert connection.password_of(source) == SECRET
    assert source.password_encrypted == ""
    monkeypatch.delenv("ACME_MART_PASSWORD")
    with pytest.raises(JobError) as failed:
        connection.password_of(source)
    assert str(failed.value) == (
        "The environment variable ACME_MART_PASSWORD (the Mart password) is not set."
    )


def test_a_password_in_the_url_and_a_variable_are_refused_together(engagement, ba):
    with pytest.raises(ValidationError) as refused:
        services.source_system_create(
            engagement=engagement,
            name="Mart",
            url=f"postgresql://u:{SECRET}@h/db",
            password_env="X",
            acting_user=ba,
        )
    assert refused.value.message_dict == {
        "password_env": ["Give the password either in the URL or as a variable, not both."]
    }
    assert not SourceSystem.objects.exists()


def test_updating_without_a_password_keeps_the_stored_one(engagement, ba):
    source = services.source_system_create(
        engagement=engagement, name="Mart", url=f"postgresql://u:{SECRET}@h/db", acting_user=ba
    )

    services.source_system_update(
        source=source, data={"url": "postgresql://u@h2/db", "name": "Mart v2"}, acting_user=ba
    )

    source.refresh_from_db()
    assert (source.url, source.name) == ("postgresql://u@h2/db", "Mart v2")
    assert connection.decrypt_secret(source.password_encrypted) == SECRET


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter a SQLAlchemy URL, e.g. postgresql://user@host/db."),
        ("not a url", "This is not a SQLAlchemy URL (expected dialect://user@host/database)."),
        (
            "foodb://u:pw@h/db",
            "Unknown database dialect 'foodb': SQLAlchemy has no dialect or driver installed for it.",
        ),
    ],
)
def test_a_bad_url_is_refused_with_a_clear_message(engagement, ba, url, message):
    with pytest.raises(ValidationError) as refused:
        services.source_system_create(engagement=engagement, name="Mart", url=url, acting_user=ba)

    assert refused.value.message_dict == {"url": [message]}
    assert not SourceSystem.objects.exists()


def _run(start, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start()
    job.refresh_from_db()
    return job


def test_an_unknown_dialect_fails_the_job_clearly(
    engagement, ba, django_capture_on_commit_callbacks
):
    source = SourceSystemFactory(engagement=engagement, url="foodb://u@h/db", dialect="foodb")

    job = _run(
        lambda: services.introspection_start(source=source, acting_user=ba),
        django_capture_on_commit_callbacks,
    )

    assert job.state == JobState.FAILED
    assert job.error == (
        "Unknown database dialect 'foodb': SQLAlchemy has no dialect or driver installed for it."
    )


def test_an_unreachable_host_fails_the_job_without_the_password(
    engagement, ba, django_capture_on_commit_callbacks, caplog
):
    source = services.source_system_create(
        engagement=engagement,
        name="Mart",
        url=f"postgresql+psycopg://reader:{SECRET}@127.0.0.1:9/mart",
        acting_user=ba,
    )

    with caplog.at_level(logging.DEBUG):
        job = _run(
            lambda: services.introspection_start(source=source, acting_user=ba),
            django_capture_on_commit_callbacks,
        )

    assert job.state == JobState.FAILED
    assert job.error.startswith("Could not connect to the Mart: connection failed:")
    assert "127.0.0.1" in job.error
    for text in (job.error, job.message, str(job.params), str(job.result), caplog.text):
        assert SECRET not in text


def test_a_secret_is_scrubbed_from_any_driver_message():
    mart = connection.MartEngine(engine=None, secret="p@ss word", statement_timeout=1)

    assert mart.scrub("failed for p@ss word and p%40ss+word") == "failed for *** and ***"


def test_the_sqlite_mart_is_opened_read_only(source):
    mart = connection.mart_engine(source)

    with (
        pytest.raises(JobError) as refused,
        connection.mart_connection(mart, doing="writing") as conn,
    ):
        conn.execute(sa.text("DELETE FROM ref_channel"))

    assert str(refused.value).startswith("The Mart refused a query while writing:")
    assert "readonly" in str(refused.value)


def test_a_statement_timeout_fails_profiling_and_keeps_the_previous_profiles(
    engagement, ba, tmp_path
):
    path = tmp_path / "big.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
        "INSERT INTO big SELECT i, 'row ' || (i % 977) FROM n;"
    )
    db.commit()
    db.close()
    source = services.source_system_create(
        engagement=engagement, name="Big", url=f"sqlite:///{path}", acting_user=ba
    )
    services.catalog_introspect(source=source, acting_user=ba)
    catalog_profile(source=source, acting_user=ba, sample_rows=1000)

    with pytest.raises(JobError) as failed:
        catalog_profile(source=source, acting_user=ba, sample_rows=300000, statement_timeout=0.001)

    assert str(failed.value) == (
        "The Mart did not answer within the statement timeout of 0.001 s while profiling big."
    )
    table = CatalogTable.objects.get(source=source)
    assert table.row_count == 300000
    assert table.columns.get(name="label").profile.sample_rows == 1000


def test_testing_the_connection_says_what_answered_or_why_not(source, ba, engagement):
    assert services.source_system_test(source=source, acting_user=ba).startswith(
        "Connected to sqlite 3."
    )
    broken = services.source_system_create(
        engagement=engagement,
        name="Broken",
        url=f"postgresql+psycopg://reader:{SECRET}@127.0.0.1:9/mart",
        acting_user=ba,
    )
    with pytest.raises(ValidationError) as failed:
        services.source_system_test(source=broken, acting_user=ba)
    assert failed.value.messages[0].startswith("Could not connect to the Mart:")
    assert SECRET not in failed.value.messages[0]
