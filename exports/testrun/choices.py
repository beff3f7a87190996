"""Choices and allowed state moves of test runs (kept beside the engine; exports.choices holds the
specification's)."""

from django.db import models


class TestType(models.TextChoices):
    __test__ = False

    RECORD_COUNT = "record_count", "Record count"
    NOT_NULL = "not_null", "Required not null"
    PRIMARY_KEY = "primary_key", "Primary key unique"
    UNIQUE = "unique", "Unique"
    FOREIGN_KEY = "foreign_key", "Foreign key resolves"
    ALLOWED_VALUES = "allowed_values", "Allowed values"
    TYPE_CONFORMANCE = "type_conformance", "Type, length and precision"
    VALUE_RANGE = "value_range", "Minimum and maximum"
    FIELD_VALUE = "field_value", "Field value"
    LOAD = "load", "Load runs"


class CheckKind(models.TextChoices):
    """The constraint a check proves, one per thing the contract or the mapping states: with the
    entity and the attribute it names a check the same way in the engine's results, in
    tests/unit_tests.sql, in the dbt tests and in what `datacontract test` reports."""

    LOAD = "load", "The load commits"
    RECORD_COUNT = "record_count", "Record count"
    NOT_NULL = "not_null", "Not null"
    PRIMARY_KEY = "primary_key", "Primary key"
    UNIQUE = "unique", "Unique"
    FOREIGN_KEY = "foreign_key", "Foreign key"
    ALLOWED_VALUES = "allowed_values", "Allowed values"
    PATTERN = "pattern", "Pattern"
    MAX_LENGTH = "max_length", "Maximum length"
    MIN_LENGTH = "min_length", "Minimum length"
    PRECISION = "precision", "Precision"
    MINIMUM = "minimum", "Minimum"
    MAXIMUM = "maximum", "Maximum"
    TYPE = "type", "Type"
    FITS_BEFORE_CAST = "fits_before_cast", "Fits before the cast (in the Mart)"
    FIELD_VALUES = "field_values", "Field values"


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
