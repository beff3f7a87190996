"""Celery job runners of exports (see workbench.jobs)."""
