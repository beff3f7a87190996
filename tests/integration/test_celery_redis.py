"""A job's whole path through real Redis and a real Celery worker process.

The worker is started by the fixture with the same database as this test run (the SQLite test file
or the PostgreSQL test database) and a queue of its own, so nothing else consumes its tasks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import REDIS_ADDRESS
from workbench import celery_app
from workbench.choices import JobState
from workbench.models import Job
from workbench.services import demo_job_start

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _test_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    return (
        f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture
def redis_url(require_redis):
    return os.environ.get("REDIS_URL") or f"redis://{REDIS_ADDRESS[0]}:{REDIS_ADDRESS[1]}/15"


@pytest.fixture
def celery_worker(redis_url, tmp_path):
    """A real `celery worker` process on Redis, consuming a queue named for this test only."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    previous = {
        key: celery_app.conf[key]
        for key in ("broker_url", "result_backend", "task_always_eager", "task_default_queue")
    }
    celery_app.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        task_always_eager=False,
        task_default_queue=queue,
    )
    _drop_connections()
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": redis_url}
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workbench",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until(
            lambda: "ready." in log.read_text(), timeout=30, what="the worker to start", log=log
        )
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        celery_app.conf.update(previous)
        _drop_connections()


def _drop_connections() -> None:
    """Forget pooled broker connections and routes, so changed Celery settings take effect."""
    from kombu import pools

    pools.reset()  # closes kombu's global producer/connection pools and forgets them
    celery_app._pool = None
    # The routing (default queue) is computed once per app; drop it to follow the new settings.
    celery_app.__dict__.pop("amqp", None)


def _wait_until(condition, *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    details = log.read_text()[-2000:] if log else ""
    pytest.fail(f"timed out waiting for {what}\n{details}")


def test_a_demo_job_runs_on_the_real_worker(engagement, ba, celery_worker):
    job = demo_job_start(engagement=engagement, steps=3, pause=0.3, acting_user=ba)

    seen_progress = set()

    def finished() -> bool:
        job.refresh_from_db()
        seen_progress.add(job.progress)
        return job.state in (JobState.SUCCEEDED, JobState.FAILED)

    _wait_until(finished, timeout=30, what="the job to finish")
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result == {"steps": 3}
    assert job.progress == 100
    assert job.started_by == ba


def test_a_failing_job_reports_its_error_through_the_worker(engagement, ba, celery_worker):
    from workbench.jobs import job_enqueue

    job = job_enqueue(
        kind="demo.countdown",
        engagement=engagement,
        acting_user=ba,
        params={"steps": 2, "pause": 0, "fail_at": 2},
    )
    _wait_until(
        lambda: Job.objects.get(pk=job.pk).state == JobState.FAILED,
        timeout=30,
        what="the job to fail",
    )
    assert Job.objects.get(pk=job.pk).error == "Stopped at step 2 of 2, as asked."
