"""Choices of mappings (catalog side): table kinds, subject areas, how a catalog was obtained."""

from django.db import models


class TableKind(models.TextChoices):
    TABLE = "table", "Table"
    VIEW = "view", "View"


class CatalogOrigin(models.TextChoices):
    INTROSPECTION = "introspection", "Introspection"
    DDL = "ddl", "DDL import"
    CSV = "csv", "CSV column list"


# Suggested subject areas; an engagement may use its own words as well (the field is free text).
DEFAULT_SUBJECT_AREAS = ["customer", "campaign", "events", "reference", "product", "sales"]


# --- the mapping side -------------------------------------------------------------------------


class MappingStatus(models.TextChoices):
    UNMAPPED = "unmapped", "Unmapped"
    DRAFT = "draft", "Draft"
    MAPPED = "mapped", "Mapped"
    DEFAULT_ONLY = "default_only", "Default Only"
    NOT_APPLICABLE = "not_applicable", "Not Applicable"
    BLOCKED = "blocked", "Blocked"


class EntityStatus(models.TextChoices):
    UNMAPPED = "unmapped", "Unmapped"
    DRAFT = "draft", "Draft"
    MAPPED = "mapped", "Mapped"
    BLOCKED = "blocked", "Blocked"


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


class CommentKind(models.TextChoices):
    QUESTION = "question", "Question"
    FEASIBILITY = "feasibility", "Feasibility"
    REVIEW = "review", "Review"
