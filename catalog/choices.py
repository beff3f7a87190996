"""Choices of the catalog: table kinds, subject areas, how a catalog was obtained."""

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
