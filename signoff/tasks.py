"""Celery job runners of signoff (see workbench.jobs)."""
