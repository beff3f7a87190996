"""The Source→Interface mapping: one EntityMapping per interface entity, one AttributeMapping per
interface attribute, and the conversation around them.

Mappings are keyed by the interface entity and attribute *names*, so they carry over from one
contract version to the next; a name the published contract no longer has shows up in the GAP.
SQL is kept as the user wrote it; what the workbench derives from it (lineage, problems) is stored
beside it on every save and never typed twice. `row_version` is the optimistic lock: a save based
on an older version is refused with the current values.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from workbench.models import Engagement, EngagementScopedQuerySet

from ..choices import (
    CommentKind,
    EntityStatus,
    Feasibility,
    LoadStrategy,
    MappingStatus,
    SmeReview,
)


class EntityMapping(models.Model):
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="entity_mappings"
    )
    entity_name = models.CharField(max_length=200)
    driving_table = models.CharField(max_length=400, blank=True)
    driving_alias = models.CharField(max_length=60, blank=True)
    joins = models.TextField(blank=True, help_text="SQL JOIN clauses, one per line.")
    filter = models.TextField(blank=True, help_text="A SQL condition over the entity's aliases.")
    frequency = models.CharField(
        max_length=100, default="daily", help_text="daily, hourly, weekly or a cron schedule."
    )
    load_strategy = models.CharField(
        max_length=20,
        choices=LoadStrategy.choices,
        blank=True,
        help_text="Blank: merge on the primary key when the entity has one, else full refresh.",
    )
    watermark = models.CharField(
        max_length=200,
        blank=True,
        help_text="The interface attribute an append loads past (e.g. event_ts).",
    )
    delete_condition = models.TextField(
        blank=True,
        help_text="A SQL condition over the aliases: source rows it matches are not loaded and a "
        "merge deletes them from the interface.",
    )
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=EntityStatus.choices, default=EntityStatus.UNMAPPED
    )
    feasibility = models.CharField(
        max_length=20, choices=Feasibility.choices, default=Feasibility.NOT_ASSESSED
    )
    feasibility_comment = models.TextField(blank=True)
    problems = models.JSONField(default=list, blank=True)  # of the FROM clause and the filter
    row_version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "entity_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "entity_name"],
                name="entity_mapping_one_per_entity",
                violation_error_message="This interface entity is already mapped.",
            ),
        ]

    def __str__(self) -> str:
        return self.entity_name

    @property
    def errors(self) -> list[dict]:
        return [p for p in self.problems if p.get("level") == "error"]


class EntitySpecHash(models.Model):
    """The hash of an entity mapping's whole part of the spec snapshot (its own fields and its
    attributes' hashes; mappings.snapshot), kept by the mapping services so "changed since
    sign-off" compares a few hundred hashes instead of rebuilding the snapshot.

    Derived data, kept beside the entity rather than on it: the entity's history records the
    fields it is computed from, and restamping it never writes an audit row.
    """

    entity_mapping = models.OneToOneField(
        EntityMapping, on_delete=models.CASCADE, primary_key=True, related_name="spec_state"
    )
    spec_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.entity_mapping_id}: {self.spec_hash[:12]}"


class AttributeMapping(models.Model):
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="attribute_mappings"
    )
    entity_mapping = models.ForeignKey(
        EntityMapping, on_delete=models.CASCADE, related_name="attributes"
    )
    attribute_name = models.CharField(max_length=200)
    source_columns = models.CharField(
        max_length=1000, blank=True, help_text="alias.column for a direct move."
    )
    transformation = models.TextField(blank=True, help_text="A SQL expression over the aliases.")
    default_value = models.CharField(max_length=500, blank=True)
    edge_cases = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=MappingStatus.choices, default=MappingStatus.UNMAPPED
    )
    lineage = models.JSONField(default=list, blank=True)  # ["alias.column"], derived
    lineage_tables = models.JSONField(default=list, blank=True)  # ["schema.table"], derived
    inferred_type = models.CharField(max_length=100, blank=True)
    problems = models.JSONField(default=list, blank=True)  # warnings kept after a save
    feasibility = models.CharField(
        max_length=20, choices=Feasibility.choices, default=Feasibility.NOT_ASSESSED
    )
    feasibility_comment = models.TextField(blank=True)
    sme_review = models.CharField(
        max_length=20, choices=SmeReview.choices, default=SmeReview.NOT_REVIEWED
    )
    row_version = models.PositiveIntegerField(default=1)
    spec_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of the attribute's part of the spec snapshot (mappings.snapshot), "
        "kept by the mapping services.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    # The hash is derived from fields history already records: history leaves it out.
    history = HistoricalRecords(excluded_fields=["spec_hash"])
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["entity_mapping", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity_mapping", "attribute_name"],
                name="attribute_mapping_one_per_attribute",
                violation_error_message="This interface attribute already has a mapping.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity_mapping.entity_name}.{self.attribute_name}"

    @property
    def rule(self) -> str:
        """The SQL that computes the attribute: the transformation, else the direct column."""
        return self.transformation.strip() or self.source_columns.strip()

    @property
    def warnings(self) -> list[dict]:
        return [p for p in self.problems if p.get("level") == "warning"]


class MappingComment(models.Model):
    """A threaded comment on an entity mapping, or on one attribute mapping of it."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="mapping_comments"
    )
    entity_mapping = models.ForeignKey(
        EntityMapping, on_delete=models.CASCADE, related_name="comments"
    )
    attribute_mapping = models.ForeignKey(
        AttributeMapping, on_delete=models.CASCADE, related_name="comments", null=True, blank=True
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, related_name="replies", null=True, blank=True
    )
    kind = models.CharField(
        max_length=20, choices=CommentKind.choices, default=CommentKind.QUESTION
    )
    text = models.TextField()
    mentions = models.JSONField(default=list, blank=True)  # usernames of mentioned members
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved = models.BooleanField(default=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.author}: {self.text[:40]}"
