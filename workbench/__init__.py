"""The Mapping Workbench: Django project package and the engagement core (phase 1)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
