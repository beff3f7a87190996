"""Models of exports."""

# ETL test runs (models kept in exports/testrun/models.py)
from .testrun.models import TestRun, UnitTestResult  # noqa: E402, F401
