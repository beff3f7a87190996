"""Writes of test runs: start one (a Job), run it, keep its unit-test results, route failures."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history
from sqlalchemy.engine import make_url

from catalog.services.connection import check_url_or_stop, password_of
from catalog.services.url_policy import check_mart_url
from signoff.choices import UatClassification
from signoff.models import UatItem
from signoff.services import do_raise_uat_item
from workbench import policy
from workbench.history import save_with_history
from workbench.jobs import JobError, job_enqueue
from workbench.policy import Action

from ..etl.plan import build_plan
from ..models import TestRun, UnitTestResult
from ..testrun import engine
from ..testrun.choices import RUN_STATUS_MOVES, FailureRoute, RunStatus, TestType
from ..testrun.reconciliation import reconciliation_report

JOB_KIND = "exports.test_run"


def _check_url(url: str, field: str):
    try:
        return make_url((url or "").strip())
    except Exception:  # noqa: BLE001 — any parse failure is the user's input
        raise ValidationError(
            {field: "Enter a SQLAlchemy URL, e.g. postgresql://user@host/db."}
        ) from None


def _check_source_url(url: str) -> None:
    """The Mart URL policy on a test run's source, reported on its own field."""
    try:
        check_mart_url(url)
    except ValidationError as exc:
        raise ValidationError({"source_url": exc.messages}) from None


def default_target_url(engagement) -> str:
    """A scratch SQLite file per engagement under var/ (the UI's default target)."""
    path = Path(settings.VAR_DIR) / "etl_runs" / f"{engagement.slug}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def etl_run_start(
    *,
    engagement,
    target_url: str,
    source_url: str = "",
    source_system=None,
    source_schema: str = "",
    target_schema: str = "",
    acting_user: User,
):
    """Queue a test run as a Job. The source is a registered source system (its password stays
    encrypted and is read by the job) or a URL; URLs travel in the job's params, so a URL with a
    password is refused (give the password to the worker's environment instead)."""
    policy.check(acting_user, engagement, Action.RUN_ETL)
    if source_system is None and not (source_url or "").strip():
        raise ValidationError({"source_url": "Choose a source system or enter a source URL."})
    urls = [(target_url, "target_url")]
    if source_system is None:
        urls.append((source_url, "source_url"))
    elif source_system.engagement_id != engagement.pk:
        raise ValidationError({"source_system": "Unknown source system."})
    for url, field in urls:
        parsed = _check_url(url, field)
        if parsed.password:
            raise ValidationError(
                {field: "Leave the password out of the URL; give it to the worker's environment."}
            )
    build_plan(engagement=engagement)  # refuse early: no published contract, nothing mapped
    if source_system is None:
        _check_source_url(source_url)
    return job_enqueue(
        kind=JOB_KIND,
        engagement=engagement,
        acting_user=acting_user,
        params={
            "source_system": source_system.pk if source_system else None,
            "source_url": (source_url or "").strip(),
            "target_url": target_url.strip(),
            "source_schema": source_schema.strip(),
            "target_schema": target_schema.strip(),
        },
    )


def source_url_with_secret(source_system) -> str:
    """The source system's URL with its password (decrypted or from the environment) — for the
    engine only, never stored or shown."""
    url = make_url(source_system.url)
    secret = password_of(source_system)
    if secret:
        url = url._replace(password=secret)
    return url.render_as_string(hide_password=False)


def _move(run: TestRun, status: str, acting_user: User, **fields) -> TestRun:
    if status not in RUN_STATUS_MOVES[run.status]:
        raise ValidationError(f"A test run cannot move from {run.status} to {status}.")
    run.status = status
    for name, value in fields.items():
        setattr(run, name, value)
    run.finished_at = timezone.now()
    save_with_history(run, acting_user=acting_user)
    return run


def etl_run_execute(
    *,
    engagement,
    options: engine.RunOptions,
    acting_user: User,
    job=None,
    progress=None,
) -> TestRun:
    """Run a test run now: load, test, store the results. A stop (JobError) is kept on the run
    with its message and raised again for the caller."""
    policy.check(acting_user, engagement, Action.RUN_ETL)
    # The target's dialect must express every rule loaded: an entity it cannot is refused by name.
    plan = build_plan(engagement=engagement).restrict_to(engine.url_dialect(options.target_url))
    check_url_or_stop(options.source_url)  # the job's and the CLI's source, however it came
    run = TestRun(
        engagement=engagement,
        job=job,
        source_url=engine.redact(options.source_url),
        target_url=engine.redact(options.target_url),
        source_schema=options.source_schema or "",
        target_schema=options.target_schema or "",
        content_hash=plan.content_hash,
        skipped={e.name: e.skipped for e in plan.entities if e.skipped},
        started_by=acting_user,
    )
    save_with_history(run, acting_user=acting_user)
    try:
        outcome = engine.run(plan, options, progress)
    except JobError as exc:
        _move(run, RunStatus.ERROR, acting_user, message=str(exc))
        raise
    attribute_ids = {
        (e.name, c.name): c.mapping.pk
        for e in plan.entities
        for c in e.columns
        if c.mapping is not None
    }
    rows = []
    for position, result in enumerate(outcome.results, start=1):
        check = result.check
        rows.append(
            UnitTestResult(
                run=run,
                position=position,
                name=check.name[:400],
                test_type=check.test_type,
                entity_name=check.entity,
                attribute_name=check.attribute[:400],
                attribute_mapping_id=attribute_ids.get((check.entity, check.attribute)),
                description=check.description,
                sql=result.sql,
                expected=result.expected[:400],
                actual=result.actual[:400],
                passed=result.passed,
                sample_rows=result.samples,
            )
        )
    with transaction.atomic():
        bulk_create_with_history(rows, UnitTestResult, default_user=acting_user)
        _move(
            run,
            RunStatus.PASSED if not outcome.failed else RunStatus.FAILED,
            acting_user,
            dialect=outcome.dialect,
            rows_loaded=outcome.rows,
            entities_loaded=len(outcome.loads),
            entity_rows={load.entity: load.rows for load in outcome.loads},
            tests_total=len(outcome.results),
            tests_failed=len(outcome.failed),
            reconciliation=reconciliation_report(plan, outcome),
            message=outcome.summary(),
        )
    return run


def unit_test_route(*, result: UnitTestResult, route: str, comments: str = "", acting_user: User):
    """Triage a failing test: a mapping error goes back to the BA, or an implementation issue."""
    policy.check(acting_user, result.run.engagement, Action.RUN_ETL)
    if result.passed:
        raise ValidationError({"route": "Only a failing test is routed."})
    if route not in FailureRoute.values:
        raise ValidationError({"route": f"Unknown route '{route}'."})
    if route == FailureRoute.MAPPING and result.attribute_mapping_id is None:
        raise ValidationError(
            {
                "route": "This test is not about one attribute mapping; mark it an implementation "
                "issue."
            }
        )
    result.route = route
    result.comments = comments.strip()
    save_with_history(result, acting_user=acting_user)
    return result


# --- for other apps (UAT feedback, issue 6) -----------------------------------------------------


def attribute_mapping_path(*, engagement, attribute_mapping_id: int) -> str:
    """The attribute mapping's page (the mapping app's url name 'mapping-attribute')."""
    try:
        return reverse("mapping-attribute", args=[engagement.slug, attribute_mapping_id])
    except NoReverseMatch:
        return f"/e/{engagement.slug}/mapping/attributes/{attribute_mapping_id}/"


def failing_test_feedback(*, result_id: int, user) -> dict:
    """What a 'raise as UAT feedback' action needs about a failing unit test: call it with the
    result's id; it checks the user may see the engagement and returns plain data (no import of
    signoff here)."""
    result = (
        UnitTestResult.objects.restrict(user).select_related("run__engagement").get(pk=result_id)
    )
    engagement = result.run.engagement
    policy.check(user, engagement, Action.VIEW)
    link = (
        attribute_mapping_path(
            engagement=engagement, attribute_mapping_id=result.attribute_mapping_id
        )
        if result.attribute_mapping_id
        else reverse("etl-run", args=[engagement.slug, result.run_id])
    )
    return {
        "engagement": engagement,
        "entity_name": result.entity_name,
        "attribute_name": result.attribute_name,
        "title": f"Unit test failed: {result.name}",
        "text": f"{result.description}\nExpected: {result.expected}\nActual: {result.actual}",
        "link": link,
        "route": result.route,
        "test_type": TestType(result.test_type).label,
    }


def _default_classification(result: UnitTestResult) -> str:
    if result.route == FailureRoute.IMPLEMENTATION:
        return UatClassification.ETL_FIX
    if result.route == FailureRoute.MAPPING or result.attribute_mapping_id:
        return UatClassification.MAPPING_CHANGE
    return UatClassification.ETL_FIX


def test_result_uat_item(result: UnitTestResult):
    """The UAT item already raised from this result, or None."""
    return (
        UatItem.objects.filter(
            engagement_id=result.run.engagement_id, test_result_ref=str(result.pk)
        )
        .order_by("pk")
        .first()
    )


def test_result_raise_uat(
    *, result: UnitTestResult, acting_user: User, classification: str = "", owner=None
):
    """Raise a failing unit test as UAT feedback on its entity (and attribute), through the
    sign-off app's service; the item quotes the test and links back to the result. Once only:
    a result already raised is refused with the item's number."""
    engagement = result.run.engagement
    policy.check(acting_user, engagement, Action.RAISE_UAT_FEEDBACK)
    if result.passed:
        raise ValidationError({"result": "Only a failing test is raised as UAT feedback."})
    existing = test_result_uat_item(result)
    if existing is not None:
        raise ValidationError(
            {"result": f"Test #{result.pk} is already raised as UAT item #{existing.pk}."}
        )
    feedback = failing_test_feedback(result_id=result.pk, user=acting_user)
    run_link = reverse("etl-run", args=[engagement.slug, result.run_id]) + f"#result-{result.pk}"
    description = f"{feedback['title']} (test run #{result.run_id}, {feedback['test_type']}).\n"
    description += f"{feedback['text']}\nTest: {run_link}"
    if result.attribute_mapping_id:
        description += f"\nMapping: {feedback['link']}"
    if result.comments:
        description += f"\nETL note: {result.comments}"
    return do_raise_uat_item(
        engagement=engagement,
        data={
            "entity_name": feedback["entity_name"],
            # only a test about one mapped attribute names it (key and row tests are entity-wide)
            "attribute_name": feedback["attribute_name"] if result.attribute_mapping_id else "",
            "test_result_ref": str(result.pk),
            "classification": classification or _default_classification(result),
            "description": description,
            "owner": owner,
        },
        acting_user=acting_user,
    )


# Not pytest tests, though their names start with "test_" (setattr: mypy knows no such attribute).
setattr(test_result_uat_item, "__test__", False)  # noqa: B010
setattr(test_result_raise_uat, "__test__", False)  # noqa: B010
