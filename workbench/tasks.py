"""Tasks of the engagement core."""

from __future__ import annotations

import smtplib
import time

from celery import shared_task

from .jobs import JobError, Progress, job_runner
from .models import Job


@job_runner(
    "demo.countdown",
    name="Demo countdown",
    outcome=lambda job: f"Counted {(job.result or {}).get('steps', 0)} steps.",
)
def demo_countdown(job: Job, progress: Progress) -> dict:
    """A demo job that proves the whole path: queue, worker, progress, result.

    It counts `steps` steps, pausing `pause` seconds each, and can be told to fail at a step.
    """
    steps = int(job.params.get("steps", 10))
    pause = float(job.params.get("pause", 0.2))
    fail_at = job.params.get("fail_at")
    for step in range(1, steps + 1):
        if fail_at is not None and step == int(fail_at):
            raise JobError(f"Stopped at step {step} of {steps}, as asked.")
        time.sleep(pause)
        progress(step * 100 / steps, f"Step {step} of {steps}")
    return {"steps": steps}


# The task keeps the name it had in the sign-off app, so messages queued before an upgrade still
# find it. An SMTP server that refuses, drops or times out (smtplib.SMTPException, OSError) is
# tried again with a growing pause (about 1 s, 2 s, 4 s ... up to 10 minutes, 8 times); each
# notification records when it was e-mailed, so a retry only sends those not sent yet.
@shared_task(
    name="signoff.send_notification_emails",
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_notification_emails(notification_ids: list[int]) -> None:
    """E-mail the notifications once their transaction has committed (see services.notify)."""
    from .services import notification_emails_send

    notification_emails_send(notification_ids=notification_ids)
