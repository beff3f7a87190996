"""Admin registrations of exports."""

# --- ETL test runs (issue 8) ---------------------------------------------------------------------
from django.contrib import admin as _admin  # noqa: E402
from simple_history.admin import SimpleHistoryAdmin as _HistoryAdmin  # noqa: E402

from .testrun.models import TestRun, UnitTestResult  # noqa: E402


@_admin.register(TestRun)
class TestRunAdmin(_HistoryAdmin):
    list_display = ["id", "engagement", "status", "rows_loaded", "tests_total", "tests_failed"]
    list_filter = ["status"]


@_admin.register(UnitTestResult)
class UnitTestResultAdmin(_HistoryAdmin):
    list_display = ["name", "run", "test_type", "passed", "route"]
    list_filter = ["test_type", "passed", "route"]
