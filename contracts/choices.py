"""Choices and allowed state moves of contracts."""

from __future__ import annotations

from django.db import models


class LayerStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    SUPERSEDED = "superseded", "Superseded"


# The allowed moves of a layer version: a draft is published (the published one before it is
# superseded at the same moment); nothing else moves.
LAYER_STATUS_MOVES: dict[str, set[str]] = {
    LayerStatus.DRAFT: {LayerStatus.PUBLISHED},
    LayerStatus.PUBLISHED: {LayerStatus.SUPERSEDED},
    LayerStatus.SUPERSEDED: set(),
}


class LogicalType(models.TextChoices):
    STRING = "string", "string"
    DATE = "date", "date"
    TIMESTAMP = "timestamp", "timestamp"
    TIME = "time", "time"
    NUMBER = "number", "number"
    INTEGER = "integer", "integer"
    OBJECT = "object", "object"
    ARRAY = "array", "array"
    BOOLEAN = "boolean", "boolean"


class SourceFormat(models.TextChoices):
    ODCS_YAML = "odcs_yaml", "ODCS YAML"
    ODCS_JSON = "odcs_json", "ODCS JSON"
    XLSX = "xlsx", "Spreadsheet (xlsx)"
    CSV = "csv", "Spreadsheet (csv)"
