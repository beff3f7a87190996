"""Choices of mappings: attribute and entity states, feasibility, SME review, comment kinds."""

from django.db import models


class MappingStatus(models.TextChoices):
    UNMAPPED = "unmapped", "Unmapped"
    DRAFT = "draft", "Draft"
    MAPPED = "mapped", "Mapped"
    DEFAULT_ONLY = "default_only", "Default Only"
    NOT_APPLICABLE = "not_applicable", "Not Applicable"
    BLOCKED = "blocked", "Blocked"


# An attribute in one of these states needs no more work (mapped, a default, or not applicable).
ATTRIBUTE_DONE_STATES = {
    MappingStatus.MAPPED,
    MappingStatus.DEFAULT_ONLY,
    MappingStatus.NOT_APPLICABLE,
}


class EntityStatus(models.TextChoices):
    """Unmapped, Draft (in progress) and Mapped follow the entity's attributes
    (mappings.status); Blocked is a decision a person takes and keeps until they lift it."""

    UNMAPPED = "unmapped", "Unmapped"
    DRAFT = "draft", "Draft"
    MAPPED = "mapped", "Mapped"
    BLOCKED = "blocked", "Blocked"


ENTITY_DECISION_STATES = {EntityStatus.BLOCKED}


class Feasibility(models.TextChoices):
    NOT_ASSESSED = "not_assessed", "Not assessed"
    FEASIBLE = "feasible", "Feasible"
    CONCERNS = "concerns", "Feasible with concerns"
    NOT_FEASIBLE = "not_feasible", "Not feasible"


# Verdicts that must say why.
FEASIBILITY_NEEDS_COMMENT = {Feasibility.CONCERNS, Feasibility.NOT_FEASIBLE}


class SmeReview(models.TextChoices):
    NOT_REVIEWED = "not_reviewed", "Not reviewed"
    AGREED = "agreed", "Agreed"
    QUERY_RAISED = "query_raised", "Query raised"


class LoadStrategy(models.TextChoices):
    """How an entity's daily load writes the interface table (exports.etl.scripts renders each)."""

    FULL_REFRESH = "full_refresh", "Full refresh"
    MERGE = "merge", "Merge on key"
    APPEND = "append", "Append by watermark"


# The named load schedules of an entity (a cron schedule is accepted too).
FREQUENCY_NAMES = ("hourly", "daily", "weekly", "monthly", "on demand")


class CommentKind(models.TextChoices):
    QUESTION = "question", "Question"
    FEASIBILITY = "feasibility", "Feasibility"
    REVIEW = "review", "Review"
