"""Celery tasks of signoff: e-mail the notifications once their transaction has committed."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="signoff.send_notification_emails", ignore_result=True)
def send_notification_emails(notification_ids: list[int]) -> None:
    from .services import notification_emails_send

    notification_emails_send(notification_ids=notification_ids)
