"""The demo's test run: the ETL Developer loads the interface tables from the demo Mart into a
scratch SQLite file and runs the unit tests — every one passes: the demo's mapping handles the
Mart's messy data (churned customers kept, E.164 phones, no placeholder campaign). The stories of a
failing test (samples, the way back to the mapping, UAT feedback) run on a first draft of the
mapping in the tests (tests/exports/etl/conftest.py FIRST_DRAFT), not in the demo.

Registered after the mapping demo steps (the exports app comes after mappings and signoff in
INSTALLED_APPS). Idempotent: once the engagement has a test run, nothing happens. The generated
ETL itself needs no step: it is generated on demand from the mapping by the ETL pages."""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from catalog.demo_mart import ensure_demo_mart
from workbench.demo import demo_step
from workbench.jobs import JobError

from ..etl.plan import build_plan
from ..services.testrun import etl_run_execute
from .engine import RunOptions
from .models import TestRun

DEMO_TARGET = "demo_interface.sqlite3"


def demo_target_path() -> Path:
    return Path(settings.VAR_DIR) / DEMO_TARGET


@demo_step
def demo_test_run(engagement, users) -> None:
    if TestRun.objects.filter(engagement=engagement).exists():
        return
    try:
        build_plan(engagement=engagement)
    except ValidationError:
        return  # no published contract or nothing mapped yet: no run to show
    source = ensure_demo_mart()
    target = demo_target_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    # a stop is kept on the run with its message: the demo shows it as it is
    with contextlib.suppress(JobError):
        etl_run_execute(
            engagement=engagement,
            options=RunOptions(source_url=f"sqlite:///{source}", target_url=f"sqlite:///{target}"),
            acting_user=users["etl"],
        )
