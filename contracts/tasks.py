"""Celery job runners of contracts (see workbench.jobs)."""
