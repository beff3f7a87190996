"""Helpers of the sign-off services: the audit row, links, names, the write lock."""

from __future__ import annotations

from django.db import connection
from django.urls import NoReverseMatch, reverse

from workbench.models import Engagement

from ..models import AuditEvent


def _audit(engagement: Engagement, kind: str, actor, **fields) -> AuditEvent:
    event = AuditEvent(engagement=engagement, kind=kind, actor=actor, **fields)
    event.save()
    return event


def _url(name: str, engagement: Engagement, *args) -> str:
    try:
        return reverse(name, args=[engagement.slug, *args])
    except NoReverseMatch:
        return reverse("engagement-dashboard", args=[engagement.slug])


def _name(user) -> str:
    return user.get_full_name() or user.username


def _lock_for_write(table: str, pk: int) -> None:
    """Take the database write lock before reading, so two deciders queue instead of racing.

    PostgreSQL: the caller's select_for_update locks the row. SQLite has no row locks: a no-op
    UPDATE as the transaction's first statement takes SQLite's write lock (waiting for the other
    writer with the busy timeout), so the second decider reads the first one's result.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f'UPDATE "{table}" SET id = id WHERE id = %s', [pk])  # noqa: S608
