"""A Tech BA deletes a source system while its profile job is still reading the Mart: the job
ends as a failed job saying so, and the deleted source stays deleted (no traceback, no
resurrected row, no orphan profile)."""

from __future__ import annotations

import threading

import pytest

from catalog.models import CatalogTable, ColumnProfile, SourceSystem
from catalog.services import profiling
from catalog.services import sources as services
from workbench.choices import JobState
from workbench.models import Job

pytestmark = pytest.mark.django_db


def _delete_the_source_while_profiling(monkeypatch, source, ba) -> None:
    """The first table read triggers the deletion, as a second user would do it meanwhile."""
    real = profiling.profile_table
    deleted = []

    def profile_table_then_delete(conn, table, columns, *, sample_rows):
        figures = real(conn, table, columns, sample_rows=sample_rows)
        if not deleted:
            services.source_system_delete(
                source=SourceSystem.objects.get(pk=source.pk), acting_user=ba
            )
            deleted.append(True)
        return figures

    monkeypatch.setattr(profiling, "profile_table", profile_table_then_delete)


def test_a_source_deleted_during_its_profile_job_fails_the_job_with_a_clear_message(
    cataloged, ba, monkeypatch, django_capture_on_commit_callbacks
):
    _delete_the_source_while_profiling(monkeypatch, cataloged, ba)

    with django_capture_on_commit_callbacks(execute=True):
        job = services.profiling_start(source=cataloged, acting_user=ba)

    job = Job.objects.get(pk=job.pk)
    assert job.state == JobState.FAILED
    assert job.error == (
        "The source Acme Mart was deleted while it was being profiled; nothing was saved."
    )
    assert not SourceSystem.objects.filter(pk=cataloged.pk).exists()  # not saved back to life
    assert not CatalogTable.objects.filter(source_id=cataloged.pk).exists()
    assert not ColumnProfile.objects.filter(engagement=cataloged.engagement).exists()


def test_a_source_deleted_during_a_direct_profile_call_is_reported_not_raised_raw(
    cataloged, ba, monkeypatch
):
    _delete_the_source_while_profiling(monkeypatch, cataloged, ba)

    with pytest.raises(profiling.JobError, match="was deleted while it was being profiled"):
        profiling.catalog_profile(source=cataloged, acting_user=ba)


@pytest.mark.postgres
@pytest.mark.app_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_deletion_while_the_profile_is_being_saved_waits_instead_of_deadlocking(
    cataloged, ba, monkeypatch
):
    """On PostgreSQL the second user's deletion arrives while the profile holds its locks: it
    waits for the save, then deletes everything; neither side dies of a deadlock."""
    from django.db import connection

    real = profiling.bulk_update_with_history
    outcome: list[object] = []

    def delete_in_another_session() -> None:
        try:
            services.source_system_delete(
                source=SourceSystem.objects.get(pk=cataloged.pk), acting_user=ba
            )
            outcome.append("deleted")
        except Exception as exc:  # noqa: BLE001 — the test reports what the other session met
            outcome.append(exc)
        finally:
            connection.close()

    deleter = threading.Thread(target=delete_in_another_session)

    def save_while_someone_deletes(*args, **kwargs):
        if not deleter.is_alive() and not outcome:
            deleter.start()
            deleter.join(timeout=1)  # it blocks on the source row the save holds
        return real(*args, **kwargs)

    monkeypatch.setattr(profiling, "bulk_update_with_history", save_while_someone_deletes)

    result = profiling.catalog_profile(source=cataloged, acting_user=ba)
    deleter.join(timeout=60)

    assert result["tables"] == 7
    assert outcome == ["deleted"]
    assert not SourceSystem.objects.filter(pk=cataloged.pk).exists()
    assert not ColumnProfile.objects.filter(engagement=cataloged.engagement).exists()
