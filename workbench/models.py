"""The engagement core (phase 1): engagements, members, sign-off owners, glossary, links; jobs."""

from __future__ import annotations

import hashlib
import secrets
from typing import Self, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .choices import (
    EngagementStatus,
    JobState,
    LinkKind,
    NotificationKind,
    Phase,
    Role,
    SignoffGate,
)

_M = TypeVar("_M", bound=models.Model)


class EngagementQuerySet(models.QuerySet["Engagement"]):
    def restrict(self, user: User | AnonymousUser | None) -> Self:
        """Only the engagements `user` may see: staff see all, others those they are members of."""
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(memberships__user=user).distinct()


class EngagementScopedQuerySet(models.QuerySet[_M]):
    """For every model that belongs to one engagement through an `engagement` field."""

    def restrict(self, user: User | AnonymousUser | None) -> Self:
        return self.filter(engagement__in=Engagement.objects.restrict(user))


class Engagement(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    client = models.CharField(max_length=200, blank=True)
    mart_name = models.CharField("Mart name", max_length=200, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=EngagementStatus.choices, default=EngagementStatus.ACTIVE
    )
    current_phase = models.PositiveSmallIntegerField(
        choices=Phase.choices, default=Phase.ORIENTATION
    )
    # False: the dashboard derives the current phase from the phase outputs (workbench.phases);
    # True: a Lead set `current_phase` by hand and it holds until they let the outputs decide.
    phase_overridden = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(current_phase__gte=1) & Q(current_phase__lte=6),
                name="engagement_phase_in_range",
                violation_error_message="The phase must be between 1 and 6.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def mart_label(self) -> str:
        """How pages name the client's source: its Mart's own name, else the client's Mart."""
        if self.mart_name:
            return self.mart_name
        return f"the {self.client} Mart" if self.client else "the Mart"


class Membership(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "user"],
                name="membership_one_per_user",
                violation_error_message="This user is already a member of the engagement.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


class SignoffOwner(models.Model):
    """The person named to give one gate's sign-off for an engagement."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="signoff_owners"
    )
    gate = models.CharField(max_length=20, choices=SignoffGate.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "gate"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "gate"],
                name="signoff_owner_one_per_gate",
                violation_error_message="This gate already has a named sign-off owner.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_gate_display()}: {self.user}"


class GlossaryTerm(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="glossary")
    term = models.CharField(max_length=200)
    definition = models.TextField()
    synonyms = models.CharField(
        max_length=500, blank=True, help_text="Comma-separated words the client or the Mart uses."
    )

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "term"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "term"],
                name="glossary_term_unique",
                violation_error_message="This term is already in the glossary.",
            ),
        ]

    def __str__(self) -> str:
        return self.term

    @property
    def synonym_list(self) -> list[str]:
        return [s.strip() for s in self.synonyms.split(",") if s.strip()]


class ReferenceLink(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=20, choices=LinkKind.choices, default=LinkKind.OTHER)
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    notes = models.TextField(blank=True)

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "kind", "title"]

    def __str__(self) -> str:
        return self.title


class JobQuerySet(models.QuerySet):
    def restrict(self, user) -> JobQuerySet:
        """Jobs of the user's engagements, and the user's own jobs that belong to none."""
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(
            Q(engagement__in=Engagement.objects.restrict(user))
            | Q(engagement__isnull=True, started_by=user)
        )


class Job(models.Model):
    """One piece of long work run by Celery; the UI polls it for a progress bar.

    Not historied on purpose: it is itself a record, updated many times per second while running.
    """

    kind = models.CharField(max_length=60)
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="jobs", null=True, blank=True
    )
    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100),
                name="job_progress_percent",
                violation_error_message="Progress is a percentage (0–100).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)


class Notification(models.Model):
    """One line of a user's in-app inbox; e-mailed as well when it is created
    (workbench.services.notify). Any app tells members something through it.

    Not historied: reading it is the only change, and the inbox is the user's own. Born in the
    sign-off app: its table keeps that name, so the rows stay where they are.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signoff_notifications"
    )
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "signoff_notification"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.subject

    @property
    def unread(self) -> bool:
        return self.read_at is None


# API tokens are "wbt_" and 43 URL-safe characters; the first 12 characters are shown to tell them
# apart, the whole key only once, when it is made. The database keeps its SHA-256 only.
TOKEN_KEY_START = "wbt_"
TOKEN_PREFIX_LENGTH = 12


def token_key_new() -> str:
    return TOKEN_KEY_START + secrets.token_urlsafe(32)


def token_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def restrict(self, user: User | AnonymousUser | None) -> Self:
        """A user sees and manages their own tokens only."""
        if not user or not user.is_authenticated:
            return self.none()
        return self.filter(user=user)


class ApiToken(models.Model):
    """A key a user made to call the API as themselves, until it expires or is revoked.

    Not historied on purpose: the row is itself the record (created, last used, revoked and by
    whom), and every API call stamps its last use.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField("key (SHA-256)", max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=TOKEN_PREFIX_LENGTH, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
                violation_error_message="A token must expire after it is created.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"
