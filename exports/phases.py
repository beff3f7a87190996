"""States of the ETL-build outputs (phase 4), shown on the dashboard."""

from __future__ import annotations

from django.urls import reverse

from mappings.models import EntityMapping
from workbench.phases import OutputState, OutputStatus, phase_output

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
