"""Reads of the ETL pages: the plan in brief, the run history, a run's results by entity."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from ..etl.plan import build_plan
from ..services.testrun import attribute_mapping_path
from ..testrun.models import TestRun, UnitTestResult


def etl_overview(*, engagement) -> dict:
    try:
        plan = build_plan(engagement=engagement)
        problem = ""
    except ValidationError as exc:
        plan, problem = None, " ".join(exc.messages)
    runs = list(TestRun.objects.filter(engagement=engagement).select_related("started_by")[:20])
    return {"plan": plan, "plan_problem": problem, "runs": runs}


def run_results(*, run: TestRun, only_failing: bool = False) -> dict:
    """A run's results grouped by entity (failing first within each), in two queries."""
    results = UnitTestResult.objects.filter(run=run).order_by("position")
    if only_failing:
        results = results.filter(passed=False)
    groups: dict[str, list[UnitTestResult]] = {}
    for result in results:
        if result.attribute_mapping_id:
            result.mapping_url = attribute_mapping_path(
                engagement=run.engagement, attribute_mapping_id=result.attribute_mapping_id
            )
        groups.setdefault(result.entity_name, []).append(result)
    for items in groups.values():
        items.sort(key=lambda r: (r.passed, r.position))
    return {"groups": groups}


def latest_reconciliation(*, engagement) -> TestRun | None:
    """The engagement's latest finished run that wrote a reconciliation report (the one the
    cutover step "First full run validated" links to), or None."""
    return (
        TestRun.objects.filter(engagement=engagement)
        .exclude(reconciliation={})
        .order_by("-finished_at", "-id")
        .first()
    )
