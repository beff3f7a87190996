"""Celery job runners of exports (see workbench.jobs)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.urls import reverse

from workbench.jobs import JobError, NextStep, job_runner

from .services import spec as spec_services


def spec_job_path(job) -> Path:
    """Where a spec export job writes its workbook (under MEDIA_ROOT, never served directly)."""
    return Path(settings.MEDIA_ROOT) / "exports" / job.engagement.slug / f"spec-job-{job.pk}.xlsx"


def _spec_outcome(job) -> str:
    result = job.result or {}
    return (
        f"Wrote the Master Mapping Specification {result.get('file_name', '')} "
        f"({max(1, round(result.get('size', 0) / 1024))} KB)."
    )


def _spec_next_step(job) -> NextStep | None:
    url = (job.result or {}).get("download_url")
    return NextStep("Download the workbook", url) if url else None


@job_runner(
    spec_services.SPEC_EXPORT_JOB,
    name="Spec export",
    outcome=_spec_outcome,
    next_step=_spec_next_step,
)
def spec_export_job(job, progress) -> dict:
    path = spec_job_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    cover = spec_services.spec_export(
        engagement=job.engagement, acting_user=job.started_by, stream=str(path), progress=progress
    )
    return {
        "file_name": spec_services.spec_file_name(job.engagement),
        "size": path.stat().st_size,
        "content_hash": cover["Content Hash"],
        "download_url": reverse("spec-job-download", args=[job.engagement.slug, job.pk]),
    }


# --- ETL test runs ----------------------------------------------------------------------------


def _test_run_of(job):
    from .testrun.models import TestRun

    return TestRun.objects.filter(job=job).order_by("-pk").first()


def _test_run_outcome(job) -> str:
    run = _test_run_of(job)
    if run is None:
        return "It finished, but its run is no longer kept."
    return run.outcome


def _test_run_next_step(job) -> NextStep | None:
    run = _test_run_of(job)
    if run is None:
        return None
    label = "See the failing tests" if run.tests_failed else "See the test results"
    if job.state == "failed":
        label = "See the stopped run"
    return NextStep(label, reverse("etl-run", args=[job.engagement.slug, run.pk]))


@job_runner(
    "exports.test_run",
    name="ETL test run",
    outcome=_test_run_outcome,
    next_step=_test_run_next_step,
)
def etl_test_run_job(job, progress) -> dict:
    from catalog.models import SourceSystem

    from .services import testrun as testrun_services
    from .testrun.engine import RunOptions

    params = job.params
    source_url = params.get("source_url") or ""
    if params.get("source_system"):
        source = SourceSystem.objects.filter(
            engagement=job.engagement, pk=params["source_system"]
        ).first()
        if source is None:
            raise JobError("The source system was deleted.")
        source_url = testrun_services.source_url_with_secret(source)
    run = testrun_services.etl_run_execute(
        engagement=job.engagement,
        options=RunOptions(
            source_url=source_url,
            target_url=params["target_url"],
            source_schema=params.get("source_schema") or None,
            target_schema=params.get("target_schema") or None,
        ),
        acting_user=job.started_by,
        job=job,
        progress=progress,
    )
    return {
        "run": run.pk,
        "summary": run.summary,
        "url": reverse("etl-run", args=[job.engagement.slug, run.pk]),
    }
