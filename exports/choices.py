"""Choices and allowed state moves of exports."""

from django.db import models


class SpecImportState(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    APPLIED = "applied", "Applied"
    CANCELLED = "cancelled", "Cancelled"


SPEC_IMPORT_MOVES: dict[str, set[str]] = {
    SpecImportState.PREVIEWED: {SpecImportState.APPLIED, SpecImportState.CANCELLED},
    SpecImportState.APPLIED: set(),
    SpecImportState.CANCELLED: set(),
}
