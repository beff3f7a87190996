"""Models of exports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from workbench.models import Engagement, EngagementScopedQuerySet

from .choices import SpecImportState


class SpecImport(models.Model):
    """An edited Master Mapping Specification read back: its preview (changes, conflicts,
    notices), then applied or cancelled. The preview is what the accept button applies."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="spec_imports"
    )
    file_name = models.CharField(max_length=255)
    file_hash = models.CharField(max_length=64, help_text="SHA-256 of the uploaded workbook.")
    file_size = models.PositiveBigIntegerField(default=0)
    state = models.CharField(
        max_length=20, choices=SpecImportState.choices, default=SpecImportState.PREVIEWED
    )
    preview = models.JSONField(default=dict, blank=True)
    change_count = models.PositiveIntegerField(default=0)
    conflict_count = models.PositiveIntegerField(default=0)
    applied_count = models.PositiveIntegerField(default=0)
    refused_count = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["preview"])
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state == SpecImportState.PREVIEWED


# ETL test runs (models kept in exports/testrun/models.py)
from .testrun.models import TestRun, UnitTestResult  # noqa: E402, F401
