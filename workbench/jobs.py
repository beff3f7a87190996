"""Jobs: long work run by Celery and recorded in a Job row the UI polls.

An app declares a job runner in its `tasks.py`, with the words its pages use for it:

    @job_runner("catalog.introspect", name="Introspection of {subject}",
                subject=("catalog.SourceSystem", "source_id"), outcome=..., next_step=...)
    def introspect(job: Job, progress: Progress) -> dict: ...

and a service starts it with `job_enqueue(kind=..., engagement=..., acting_user=..., params=...)`.
The Celery task only receives the job id; it is queued once the transaction commits. Without
REDIS_URL, Celery runs it eagerly in-process right after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from celery import shared_task
from django.apps import apps
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .choices import JOB_STATE_MOVES, JobState
from .models import Engagement, Job

log = logging.getLogger(__name__)

JobFunction = Callable[[Job, "Progress"], Any]
JOB_TASKS: dict[str, Any] = {}


@dataclass(frozen=True)
class NextStep:
    label: str
    url: str


@dataclass(frozen=True)
class JobKind:
    """What the pages say about a kind of job: its human name, what happened, where to go next."""

    kind: str
    name: str  # may hold "{subject}", the name of the object the job works on
    subject: tuple[str, str] | None = None  # (model label, the param holding its pk)
    outcome: Callable[[Job], str] | None = None  # a sentence about a finished job's result
    next_step: Callable[[Job], NextStep | None] | None = None


# The one registry of job kinds, filled by `job_runner` declarations.
JOB_KINDS: dict[str, JobKind] = {}


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


def job_runner(
    kind: str,
    *,
    name: str,
    subject: tuple[str, str] | None = None,
    outcome: Callable[[Job], str] | None = None,
    next_step: Callable[[Job], NextStep | None] | None = None,
) -> Callable[[JobFunction], JobFunction]:
    """Register `fn` as the body of jobs of `kind`, create its Celery task and record how the
    pages name and describe such jobs."""
    JOB_KINDS[kind] = JobKind(kind, name, subject, outcome, next_step)

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


# --- what the pages say about a job ------------------------------------------------------------


def job_kind(kind: str) -> JobKind:
    """The kind's declaration; a kind no longer declared is named by its code."""
    return JOB_KINDS.get(kind) or JobKind(kind, name=kind)


def job_titles(jobs: Iterable[Job]) -> None:
    """Give each job its human `title`, loading the names of their subjects in one query per
    kind of subject (a list of jobs stays a bounded number of queries)."""
    jobs = list(jobs)
    wanted: dict[tuple[str, str], set[int]] = {}
    for job in jobs:
        subject = job_kind(job.kind).subject
        pk = _subject_pk(job, subject)
        if subject and pk is not None:
            wanted.setdefault(subject, set()).add(pk)
    names: dict[tuple[str, str], dict[int, str]] = {}
    for subject, pks in wanted.items():
        model = apps.get_model(subject[0])
        names[subject] = {obj.pk: str(obj) for obj in model.objects.filter(pk__in=pks)}
    for job in jobs:
        kind = job_kind(job.kind)
        pk = _subject_pk(job, kind.subject)
        job.title = kind.name.format(  # type: ignore[attr-defined]
            subject=_subject_name(kind.subject, pk, names) if kind.subject else ""
        )


def _subject_name(subject: tuple[str, str], pk: int | None, names: dict) -> str:
    found = names.get(subject, {}).get(pk) if pk is not None else None
    return found or f"a deleted {apps.get_model(subject[0])._meta.verbose_name}"


def _subject_pk(job: Job, subject: tuple[str, str] | None) -> int | None:
    value = (job.params or {}).get(subject[1]) if subject else None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    return None


def job_outcome(job: Job) -> str:
    """One sentence saying what happened (or is happening) to the job."""
    if job.state == JobState.QUEUED:
        return "Waiting for a worker to start it."
    if job.state == JobState.RUNNING:
        return f"Running: {job.message}" if job.message else "Running."
    if job.state == JobState.FAILED:
        return f"It failed: {job.error}" if job.error else "It failed."
    outcome = job_kind(job.kind).outcome
    return outcome(job) if outcome else "It finished."


def job_next_step(job: Job) -> NextStep | None:
    """Where to go once the job has finished (None while it runs or when nothing follows)."""
    next_step = job_kind(job.kind).next_step
    if not job.is_finished or next_step is None:
        return None
    return next_step(job)
