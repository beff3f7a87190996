"""Jobs: long work run by Celery and recorded in a Job row the UI polls.

An app declares a job runner in its `tasks.py`:

    @job_runner("catalog.introspect")
    def introspect(job: Job, progress: Progress) -> dict: ...

and a service starts it with `job_enqueue(kind=..., engagement=..., acting_user=..., params=...)`.
The Celery task only receives the job id; it is queued once the transaction commits. Without
REDIS_URL, Celery runs it eagerly in-process right after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .choices import JOB_STATE_MOVES, JobState
from .models import Engagement, Job

log = logging.getLogger(__name__)

JobFunction = Callable[[Job, "Progress"], Any]
JOB_TASKS: dict[str, Any] = {}


class JobError(Exception):
    """An expected failure whose message is safe and useful to show to the user as is."""


class Progress:
    """Reports progress of a running job; each report is one UPDATE of its row."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self, percent: float, message: str = "") -> None:
        percent = max(0, min(100, int(percent)))
        Job.objects.filter(pk=self.job.pk).update(progress=percent, message=message[:500])
        self.job.progress, self.job.message = percent, message[:500]


def job_runner(kind: str) -> Callable[[JobFunction], JobFunction]:
    """Register `fn` as the body of jobs of `kind` and create its Celery task."""

    def decorate(fn: JobFunction) -> JobFunction:
        @shared_task(name=f"jobs.{kind}", ignore_result=True)
        def task(job_id: int) -> None:
            run_job(job_id, fn)

        JOB_TASKS[kind] = task
        fn.task = task  # type: ignore[attr-defined]
        return fn

    return decorate


def job_enqueue(
    *,
    kind: str,
    acting_user: User,
    engagement: Engagement | None = None,
    params: dict | None = None,
) -> Job:
    """Record a queued Job and send its task once the surrounding transaction commits.

    The caller (a service) has already checked the policy for what the job will do.
    """
    if kind not in JOB_TASKS:
        raise ValidationError({"kind": f"Unknown job kind '{kind}'."})
    job = Job.objects.create(
        kind=kind, engagement=engagement, params=params or {}, started_by=acting_user
    )
    task = JOB_TASKS[kind]
    transaction.on_commit(lambda: task.delay(job.pk))
    return job


def job_move(job: Job, state: str, **fields: Any) -> Job:
    """The one place a job's state changes; only the moves in JOB_STATE_MOVES."""
    if state not in JOB_STATE_MOVES[job.state]:
        raise ValueError(f"A job cannot move from {job.state} to {state}.")
    now = timezone.now()
    if state == JobState.RUNNING:
        fields["started_at"] = now
    if state in (JobState.SUCCEEDED, JobState.FAILED):
        fields["finished_at"] = now
    fields["state"] = state
    Job.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)
    return job


def run_job(job_id: int, fn: JobFunction) -> None:
    job = Job.objects.select_related("engagement", "started_by").get(pk=job_id)
    if job.state != JobState.QUEUED:
        log.warning("job %s is %s, not queued; not running it again", job.pk, job.state)
        return
    job_move(job, JobState.RUNNING, message="Started")
    try:
        result = fn(job, Progress(job))
    except (JobError, ValidationError, PermissionDenied) as exc:
        job_move(job, JobState.FAILED, error=_message_of(exc), message="Failed")
    except Exception as exc:  # noqa: BLE001 — a job records every failure instead of dying silently
        log.exception("job %s (%s) failed", job.pk, job.kind)
        job_move(
            job, JobState.FAILED, error=f"Unexpected error: {type(exc).__name__}", message="Failed"
        )
    else:
        job_move(job, JobState.SUCCEEDED, result=result, progress=100, message="Done")


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)
