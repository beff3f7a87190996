"""Jobs: queued on commit, run by Celery, their state moved only along allowed paths."""

from __future__ import annotations

import pytest

from workbench.choices import JobState
from workbench.jobs import job_enqueue, job_move
from workbench.models import Job
from workbench.services import demo_job_start


def test_a_job_is_queued_only_when_the_transaction_commits(
    engagement, ba, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = demo_job_start(engagement=engagement, steps=2, pause=0, acting_user=ba)
    assert job.state == JobState.QUEUED
    assert len(callbacks) == 1

    callbacks[0]()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert (job.progress, job.message, job.result) == (100, "Done", {"steps": 2})
    assert job.started_at <= job.finished_at
    assert job.started_by == ba


def test_a_failing_job_records_its_error(engagement, ba, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            kind="demo.countdown",
            engagement=engagement,
            acting_user=ba,
            params={"steps": 4, "pause": 0, "fail_at": 3},
        )
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == "Stopped at step 3 of 4, as asked."
    assert job.progress == 50  # it got through two of four steps


def test_an_unexpected_crash_is_recorded_without_its_details(
    engagement, ba, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            kind="demo.countdown",
            engagement=engagement,
            acting_user=ba,
            params={"steps": "many"},
        )
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == "Unexpected error: ValueError"


def test_an_unknown_job_kind_is_refused(engagement, ba):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Unknown job kind 'nope'"):
        job_enqueue(kind="nope", engagement=engagement, acting_user=ba)
    assert not Job.objects.exists()


def test_job_states_move_only_forward(engagement):
    job = Job.objects.create(kind="demo.countdown", engagement=engagement)
    job_move(job, JobState.RUNNING)
    job_move(job, JobState.SUCCEEDED)
    with pytest.raises(ValueError, match="cannot move from succeeded to running"):
        job_move(job, JobState.RUNNING)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED


def test_a_finished_job_is_not_run_twice(engagement, ba, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = demo_job_start(engagement=engagement, steps=1, pause=0, acting_user=ba)
    job.refresh_from_db()
    finished_at = job.finished_at

    from workbench.jobs import JOB_TASKS

    JOB_TASKS["demo.countdown"].apply(args=[job.pk])
    job.refresh_from_db()
    assert job.finished_at == finished_at


def test_the_demo_job_refuses_silly_step_counts(engagement, ba):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="between 1 and 50 steps"):
        demo_job_start(engagement=engagement, steps=500, acting_user=ba)
