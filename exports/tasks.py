"""Celery job runners of exports (see workbench.jobs)."""

from __future__ import annotations

from django.urls import reverse

from workbench.jobs import JobError, job_runner

# --- ETL test runs ----------------------------------------------------------------------------


@job_runner("exports.test_run")
def etl_test_run_job(job, progress) -> dict:
    from mappings.models import SourceSystem

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
    run = testrun_services.test_run_execute(
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
