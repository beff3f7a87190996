"""States of the ETL-build outputs (phase 4), shown on the dashboard."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse

from mappings.models import EntityMapping
from workbench.models import Engagement
from workbench.phases import (
    OutputState,
    OutputStatus,
    phase_output,
    phase_statuses,
)

from .models import TestRun
from .testrun.choices import RunStatus


def _url(engagement) -> str:
    return reverse("etl-overview", args=[engagement.slug])


@phase_output("etl_design")
def etl_design_state(engagement) -> OutputState:
    entities = EntityMapping.objects.filter(engagement=engagement)
    total = entities.count()
    designed = entities.exclude(driving_table="").count()
    if not designed:
        return OutputState(
            OutputStatus.NOT_STARTED, "no entity has a driving table", _url(engagement)
        )
    status = OutputStatus.DONE if designed == total else OutputStatus.IN_PROGRESS
    return OutputState(status, f"{designed} of {total} entities designed", _url(engagement))


@phase_output("generated_etl")
def generated_etl_state(engagement) -> OutputState:
    run = TestRun.objects.filter(engagement=engagement).first()
    if run is None:
        return OutputState(OutputStatus.NOT_STARTED, "not run on sample data", _url(engagement))
    if run.status == RunStatus.ERROR:
        return OutputState(OutputStatus.IN_PROGRESS, "last test run stopped", _url(engagement))
    return OutputState(
        OutputStatus.DONE, f"{run.rows_loaded} rows loaded in the last run", _url(engagement)
    )


@phase_output("unit_tests")
def unit_tests_state(engagement) -> OutputState:
    run = TestRun.objects.filter(engagement=engagement).exclude(status=RunStatus.ERROR).first()
    if run is None:
        return OutputState(OutputStatus.NOT_STARTED, "no unit tests yet", _url(engagement))
    link = reverse("etl-run", args=[engagement.slug, run.pk])
    if run.tests_failed:
        return OutputState(
            OutputStatus.IN_PROGRESS, f"{run.tests_failed} of {run.tests_total} failing", link
        )
    return OutputState(OutputStatus.DONE, f"{run.tests_total} tests passing", link)


# --- the same statuses for many engagements at once (the engagement list) ----------------------


@phase_statuses("etl_design")
def etl_design_statuses(engagements) -> dict[int, OutputStatus]:
    rows = (
        EntityMapping.objects.filter(engagement__in=engagements)
        .values("engagement_id")
        .annotate(total=Count("pk"), designed=Count("pk", filter=~Q(driving_table="")))
    )
    counts = {row["engagement_id"]: row for row in rows}
    result = {}
    for e in engagements:
        c = counts.get(e.pk, {"total": 0, "designed": 0})
        result[e.pk] = (
            OutputStatus.NOT_STARTED
            if not c["designed"]
            else OutputStatus.DONE
            if c["designed"] == c["total"]
            else OutputStatus.IN_PROGRESS
        )
    return result


def _last_runs(engagements, runs) -> dict[int, dict]:
    """Per engagement the newest of `runs` (status and failed tests), in one query."""
    newest = runs.filter(engagement=OuterRef("pk")).order_by("-started_at", "-id")
    rows = (
        Engagement.objects.filter(pk__in=[e.pk for e in engagements])
        .annotate(
            run_status=Subquery(newest.values("status")[:1]),
            run_failed=Subquery(newest.values("tests_failed")[:1]),
        )
        .values("pk", "run_status", "run_failed")
    )
    return {row["pk"]: row for row in rows}


@phase_statuses("generated_etl")
def generated_etl_statuses(engagements) -> dict[int, OutputStatus]:
    runs = _last_runs(engagements, TestRun.objects.all())
    return {
        e.pk: OutputStatus.NOT_STARTED
        if runs[e.pk]["run_status"] is None
        else OutputStatus.IN_PROGRESS
        if runs[e.pk]["run_status"] == RunStatus.ERROR
        else OutputStatus.DONE
        for e in engagements
    }


@phase_statuses("unit_tests")
def unit_tests_statuses(engagements) -> dict[int, OutputStatus]:
    runs = _last_runs(engagements, TestRun.objects.exclude(status=RunStatus.ERROR))
    return {
        e.pk: OutputStatus.NOT_STARTED
        if runs[e.pk]["run_status"] is None
        else OutputStatus.IN_PROGRESS
        if runs[e.pk]["run_failed"]
        else OutputStatus.DONE
        for e in engagements
    }
