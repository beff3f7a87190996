"""Sign-off: immutable spec versions, review requests per gate, decisions that point at the exact
version and hash they approved (like Wagtail's TaskState.revision), UAT feedback items, the cutover
checklist, and an audit trail of every decision and state change. (The inbox's Notification is
the core's: workbench.models.)
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from workbench.models import Engagement, EngagementScopedQuerySet
from workbench.models import Notification as Notification  # moved to the core; old imports work

from .choices import (
    OPEN_REVIEW_STATES,
    AuditKind,
    CutoverStep,
    Gate,
    ReviewState,
    UatClassification,
    UatState,
    Verdict,
)


class SpecVersion(models.Model):
    """A frozen snapshot of the engagement's mapping (all entities, or the chosen ones).

    Written once by `signoff.services.do_submit_version` and never changed: `content_hash` is the
    SHA-256 of the canonical JSON of `snapshot` (mappings.snapshot.content_hash).
    """

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="spec_versions"
    )
    number = models.PositiveIntegerField()
    entities = models.JSONField(
        default=list, blank=True, help_text="The entities frozen; empty for the whole spec."
    )
    snapshot = models.JSONField()
    content_hash = models.CharField(max_length=64)
    contract_name = models.CharField(max_length=200, blank=True)
    contract_version = models.CharField(max_length=50, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["snapshot"])
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "number"],
                name="spec_version_number_unique",
                violation_error_message="This version number is already taken.",
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="spec_version_number_positive",
                violation_error_message="Version numbers start at 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number}"

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]

    @property
    def scope_label(self) -> str:
        return ", ".join(self.entities) if self.entities else "whole spec"


class SpecVersionEntity(models.Model):
    """One entity's part of a spec version, with the hashes of its frozen snapshot: the entity's
    and each attribute's (mappings.snapshot.part_hashes). Compared with the hashes the mapping
    rows carry, it answers "changed since sign-off?" without reading the whole snapshot, and its
    `part` gives the field diff of that entity alone.

    Written with its version by `signoff.services.do_submit_version` and never changed; like the
    version's snapshot it has no history of its own.
    """

    version = models.ForeignKey(SpecVersion, on_delete=models.CASCADE, related_name="parts")
    entity_name = models.CharField(max_length=200)
    spec_hash = models.CharField(max_length=64)
    attribute_hashes = models.JSONField(default=dict)  # attribute name → hash
    part = models.JSONField()  # snapshot["entities"][entity_name]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "entity_name"],
                name="spec_version_entity_once",
                violation_error_message="This entity is already part of the version.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity_name} in version {self.version.number}"


class ReviewRequest(models.Model):
    """One request to a gate's approver to review one spec version (whole spec or some entities)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="reviews")
    gate = models.CharField(max_length=20, choices=Gate.choices)
    version = models.ForeignKey(SpecVersion, on_delete=models.PROTECT, related_name="reviews")
    scope_key = models.CharField(
        max_length=2000, blank=True, help_text="Sorted entity names; empty for the whole spec."
    )
    state = models.CharField(
        max_length=20, choices=ReviewState.choices, default=ReviewState.REQUESTED
    )
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "gate", "scope_key"],
                condition=Q(state__in=OPEN_REVIEW_STATES),
                name="review_one_open_per_gate_and_scope",
                violation_error_message="A review of this gate and scope is already open.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_gate_display()} review of version {self.version.number}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_REVIEW_STATES


class Decision(models.Model):
    """An approval or a rejection, bound to the exact version and content hash that was decided."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="decisions")
    review = models.ForeignKey(ReviewRequest, on_delete=models.PROTECT, related_name="decisions")
    gate = models.CharField(max_length=20, choices=Gate.choices)
    version = models.ForeignKey(SpecVersion, on_delete=models.PROTECT, related_name="decisions")
    content_hash = models.CharField(max_length=64)
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=30, help_text="The approver's role when deciding.")
    decided_at = models.DateTimeField(auto_now_add=True)
    invalidation_notified_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-decided_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review"],
                name="decision_one_per_review",
                violation_error_message="This review is already decided.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} version {self.version.number}"


class UatItem(models.Model):
    """Feedback captured during the client's walk-through of the interface outputs (step 5)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="uat_items")
    entity_name = models.CharField(max_length=200)
    attribute_name = models.CharField(max_length=200, blank=True)
    test_result_ref = models.CharField(
        "test-run result", max_length=100, blank=True, help_text="Id of a test-run result."
    )
    classification = models.CharField(max_length=20, choices=UatClassification.choices)
    description = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    state = models.CharField(max_length=20, choices=UatState.choices, default=UatState.OPEN)
    resolution = models.TextField(blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "state", "-raised_at", "-id"]

    def __str__(self) -> str:
        target = (
            f"{self.entity_name}.{self.attribute_name}" if self.attribute_name else self.entity_name
        )
        return f"UAT #{self.pk} on {target}"

    @property
    def target(self) -> str:
        return (
            f"{self.entity_name}.{self.attribute_name}" if self.attribute_name else self.entity_name
        )


class CutoverItem(models.Model):
    """One step of the production cutover checklist, ticked by the allowed role."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="cutover_items"
    )
    step = models.CharField(max_length=30, choices=CutoverStep.choices)
    ticked = models.BooleanField(default=False)
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    ticked_at = models.DateTimeField(null=True, blank=True)
    link = models.URLField(max_length=500, blank=True)
    note = models.TextField(blank=True)

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "step"],
                name="cutover_one_item_per_step",
                violation_error_message="This cutover step is already on the checklist.",
            ),
        ]

    def __str__(self) -> str:
        return self.get_step_display()


class AuditEvent(models.Model):
    """Every decision and state change of the sign-off process. Append-only: itself the record,
    so it has no history of its own."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="signoff_events"
    )
    kind = models.CharField(max_length=30, choices=AuditKind.choices)
    gate = models.CharField(max_length=20, choices=Gate.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.ForeignKey(
        SpecVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    content_hash = models.CharField(max_length=64, blank=True)
    review = models.ForeignKey(
        ReviewRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    message = models.TextField(blank=True)

    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor}"
