"""Choices and allowed state moves of test runs (kept beside the engine; exports.choices holds the
specification's)."""

from django.db import models


class TestType(models.TextChoices):
    __test__ = False

    RECORD_COUNT = "record_count", "Record count"
    NOT_NULL = "not_null", "Required not null"
    PRIMARY_KEY = "primary_key", "Primary key unique"
    FOREIGN_KEY = "foreign_key", "Foreign key resolves"
    ALLOWED_VALUES = "allowed_values", "Allowed values"
    TYPE_CONFORMANCE = "type_conformance", "Type, length and precision"
    FIELD_VALUE = "field_value", "Field value"
    LOAD = "load", "Load runs"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Tests failed"
    ERROR = "error", "Stopped"


RUN_STATUS_MOVES: dict[str, set[str]] = {
    RunStatus.RUNNING: {RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR},
    RunStatus.PASSED: set(),
    RunStatus.FAILED: set(),
    RunStatus.ERROR: set(),
}


class FailureRoute(models.TextChoices):
    """Where a failing test goes: back to the BA's mapping, or to the ETL developer."""

    UNTRIAGED = "", "Not triaged"
    MAPPING = "mapping", "Mapping error (back to the BA)"
    IMPLEMENTATION = "implementation", "Implementation issue"
