"""Reads of the engagement core that are more than a one-liner."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When

from .choices import Role
from .models import Engagement, Job, Membership


def engagement_list(*, user) -> QuerySet[Engagement]:
    """The engagements the user sees, with their member count, in one query."""
    return (
        Engagement.objects.restrict(user)
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("name")
    )


ROLE_ORDER = Case(
    *(When(role=role, then=Value(position)) for position, role in enumerate(Role.values)),
    output_field=IntegerField(),
)


def engagement_members(*, engagement: Engagement) -> QuerySet[Membership]:
    """Members in the order roles are listed (lead first, viewers last), then by name."""
    return engagement.memberships.select_related("user").order_by(ROLE_ORDER, "user__username")


def engagement_jobs(*, engagement: Engagement, limit: int = 50) -> QuerySet[Job]:
    return engagement.jobs.select_related("started_by")[:limit]
