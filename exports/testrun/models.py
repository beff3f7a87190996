"""Models of test runs: one TestRun per load of sample data, its UnitTestResults (historied).

Imported by exports.models so Django registers them in the exports app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from mappings.models import AttributeMapping
from workbench.models import Engagement, EngagementScopedQuerySet, Job

from .choices import FailureRoute, RunStatus, TestType


class TestRun(models.Model):
    """One load of the interface tables from sample data, with its unit tests."""

    __test__ = False  # not a pytest class

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="test_runs")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source_url = models.CharField("source URL (no password)", max_length=1000)
    target_url = models.CharField("target URL (no password)", max_length=1000)
    source_schema = models.CharField(max_length=200, blank=True)
    target_schema = models.CharField(max_length=200, blank=True)
    dialect = models.CharField(max_length=30, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    rows_loaded = models.PositiveBigIntegerField(default=0)
    entities_loaded = models.PositiveIntegerField(default=0)
    entity_rows = models.JSONField(default=dict, blank=True)  # entity → rows loaded
    skipped = models.JSONField(default=dict, blank=True)  # entity → why it was not loaded
    tests_total = models.PositiveIntegerField(default=0)
    tests_failed = models.PositiveIntegerField(default=0)
    # source vs target rows per entity, load counts, tests and timings (exports.testrun.reconciliation)
    reconciliation = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        app_label = "exports"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Test run #{self.pk} ({self.get_status_display()})"

    @property
    def summary(self) -> str:
        return (
            f"loaded {self.rows_loaded} rows into {self.entities_loaded} entities; "
            f"{self.tests_total} tests, {self.tests_failed} failed"
        )

    @property
    def outcome(self) -> str:
        """The run in one sentence, as the job and run pages say it."""
        if self.status == RunStatus.ERROR:
            return f"The run stopped before its tests: {self.message}"
        if self.status == RunStatus.RUNNING:
            return "The run is loading the interface tables and testing them."
        passed = self.tests_total - self.tests_failed
        sentence = (
            f"Loaded {self.rows_loaded:,} rows into {self.entities_loaded} "
            f"entit{'y' if self.entities_loaded == 1 else 'ies'}; {self.tests_total} tests ran: "
            f"{passed} passed, {self.tests_failed} failed."
        )
        return sentence if self.tests_failed else sentence + " Every test passed."


class UnitTestResultQuerySet(models.QuerySet):
    def restrict(self, user):
        return self.filter(run__engagement__in=Engagement.objects.restrict(user))


class UnitTestResult(models.Model):
    """One unit test of a run: its SQL, expected and actual figures, and failing samples."""

    __test__ = False

    run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=400)
    test_type = models.CharField(max_length=30, choices=TestType.choices)
    entity_name = models.CharField(max_length=200)
    attribute_name = models.CharField(max_length=400, blank=True)
    attribute_mapping = models.ForeignKey(
        AttributeMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    description = models.TextField(blank=True)
    sql = models.TextField()
    expected = models.CharField(max_length=400)
    actual = models.CharField(max_length=400)
    passed = models.BooleanField()
    sample_rows = models.JSONField(default=list, blank=True)  # up to 20 failing rows
    route = models.CharField(
        max_length=20, choices=FailureRoute.choices, default=FailureRoute.UNTRIAGED, blank=True
    )
    comments = models.TextField(blank=True)

    history = HistoricalRecords()
    objects = UnitTestResultQuerySet.as_manager()

    class Meta:
        app_label = "exports"
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "position"],
                name="unit_test_result_position",
                violation_error_message="This run already has a test at that position.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {'pass' if self.passed else 'FAIL'}"

    @property
    def status_label(self) -> str:
        return "Pass" if self.passed else "Fail"
