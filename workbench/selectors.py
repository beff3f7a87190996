"""Reads of the engagement core that are more than a one-liner."""

from __future__ import annotations

import django_filters
from django.contrib.auth.models import User
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from .choices import Phase, Role
from .models import ApiToken, Engagement, Job, Membership, Notification
from .phases import current_phases


def engagement_list(*, user) -> QuerySet[Engagement]:
    """The engagements the user sees, with their member count, in one query."""
    # Restricted through a subquery: restricting by the user's own membership in the same query
    # would leave only that membership to count (every member count would read 1).
    return (
        Engagement.objects.filter(pk__in=Engagement.objects.restrict(user).values("pk"))
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("name")
    )


class EngagementFilter(django_filters.FilterSet):
    """Engagements by status, client and current phase: the phase the dashboard shows (derived
    from the outputs, or a Lead's override), not the stored field under it."""

    current_phase = django_filters.TypedChoiceFilter(
        choices=Phase.choices,
        coerce=int,
        method="by_current_phase",
        label="The current phase, as the dashboard shows it.",
    )

    class Meta:
        model = Engagement
        fields = ["status", "client"]

    def by_current_phase(self, queryset, name, value):
        phases = current_phases(queryset)
        return queryset.filter(pk__in=[pk for pk, now in phases.items() if now.phase == value])


def with_current_phase(engagements) -> list[Engagement]:
    """The engagements, each with `.phase`: the current phase as its dashboard shows it (derived
    from the phase outputs, or a Lead's override), in a fixed number of queries for all of them."""
    engagements = list(engagements)
    phases = current_phases(engagements)
    for engagement in engagements:
        engagement.phase = phases[engagement.pk]
    return engagements


ROLE_ORDER = Case(
    *(When(role=role, then=Value(position)) for position, role in enumerate(Role.values)),
    output_field=IntegerField(),
)


def engagement_members(*, engagement: Engagement) -> QuerySet[Membership]:
    """Members in the order roles are listed (lead first, viewers last), then by name."""
    return engagement.memberships.select_related("user").order_by(ROLE_ORDER, "user__username")


CANDIDATE_MIN_QUERY = 2


def member_candidates(*, engagement: Engagement, query: str, limit: int = 8) -> QuerySet[User]:
    """Active users not yet in the engagement whose user name, name or e-mail contains `query`
    (at least two characters: the picker suggests, it does not list the user directory)."""
    words = query.split()
    if len(query.strip()) < CANDIDATE_MIN_QUERY:
        return User.objects.none()
    users = User.objects.filter(is_active=True).exclude(memberships__engagement=engagement)
    for word in words:
        users = users.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
        )
    return users.order_by("username")[:limit]


def engagement_jobs(*, engagement: Engagement, limit: int = 50) -> QuerySet[Job]:
    return engagement.jobs.select_related("started_by")[:limit]


def inbox(*, user) -> QuerySet[Notification]:
    """The user's notifications of the engagements they can still see, newest first."""
    return (
        Notification.objects.filter(recipient=user)
        .filter(Q(engagement__memberships__user=user) | Q(recipient__is_staff=True))
        .select_related("engagement", "actor")
        .distinct()
    )


def unread_count(*, user) -> int:
    if not user or not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def api_tokens(*, user) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first."""
    return ApiToken.objects.restrict(user).order_by("-created_at", "-id")
