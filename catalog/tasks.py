"""Celery job runners of the catalog (see workbench.jobs). Each takes the job's ids and calls a service."""

from __future__ import annotations

from django.urls import reverse

from workbench.jobs import JobError, NextStep, job_runner

from .models import SourceSystem
from .services.profiling import catalog_profile
from .services.sources import catalog_introspect


def _source(job) -> SourceSystem:
    source = SourceSystem.objects.filter(
        pk=job.params.get("source_id"), engagement=job.engagement
    ).first()
    if source is None:
        raise JobError("The source system no longer exists.")
    return source


def _catalog_of_source(label: str):
    def next_step(job) -> NextStep | None:
        if job.state != "succeeded":
            return NextStep(
                "Back to the source systems", reverse("source-list", args=[job.engagement.slug])
            )
        url = reverse("catalog", args=[job.engagement.slug])
        return NextStep(label, f"{url}?source={job.params.get('source_id', '')}")

    return next_step


def _introspection_outcome(job) -> str:
    result = job.result or {}
    return f"{result.get('summary', 'Cataloged the Mart')}."


def _profiling_outcome(job) -> str:
    result = job.result or {}
    return (
        f"Profiled {result.get('columns', 0)} columns of {result.get('tables', 0)} tables, "
        f"reading up to {result.get('sample_rows', 0):,} rows of each."
    )


@job_runner(
    "catalog.introspect",
    name="Introspection of {subject}",
    subject=("catalog.SourceSystem", "source_id"),
    outcome=_introspection_outcome,
    next_step=_catalog_of_source("Open the catalog"),
)
def introspect(job, progress) -> dict:
    result = catalog_introspect(
        source=_source(job),
        acting_user=job.started_by,
        schema=job.params.get("schema"),  # a job queued before sources had several schemas
        schemas=job.params.get("schemas"),
        progress=progress,
    )
    counts = result["diff"]["counts"]
    changes = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items() if n)
    summary = (
        f"Cataloged {result['tables']} tables, {result['columns']} columns, "
        f"{result['foreign_keys']} foreign keys"
    )
    if not result["diff"]["first"]:
        summary += f"; changes: {changes}" if changes else "; no change since the last refresh"
    return {
        "summary": summary,
        **result,
        "diff": {"first": result["diff"]["first"], "counts": counts},
    }


@job_runner(
    "catalog.profile",
    name="Profiling of {subject}",
    subject=("catalog.SourceSystem", "source_id"),
    outcome=_profiling_outcome,
    next_step=_catalog_of_source("See the profiles in the catalog"),
)
def profile(job, progress) -> dict:
    result = catalog_profile(
        source=_source(job),
        acting_user=job.started_by,
        table_ids=job.params.get("table_ids") or None,
        sample_rows=int(job.params.get("sample_rows") or 100_000),
        progress=progress,
    )
    summary = f"Profiled {result['tables']} tables, {result['columns']} columns"
    return {"summary": summary, **result}
