"""Celery job runners of mappings (see workbench.jobs)."""
