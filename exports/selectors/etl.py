"""Reads of the ETL pages: the plan in brief, the run history, a run's results by entity."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.urls import reverse

from mappings.models import AttributeMapping, EntityMapping

from ..etl.plan import build_plan
from ..testrun.choices import RunStatus, TestType
from ..testrun.models import TestRun, UnitTestResult
from ..testrun.package import number_cases


def etl_overview(*, engagement) -> dict:
    try:
        plan = build_plan(engagement=engagement)
        problem = ""
    except ValidationError as exc:
        plan, problem = None, " ".join(exc.messages)
    runs = list(TestRun.objects.filter(engagement=engagement).select_related("started_by")[:20])
    return {"plan": plan, "plan_problem": problem, "runs": runs}


# The column a database names when a load breaks a NOT NULL or UNIQUE constraint, as SQLite and
# DuckDB ("NOT NULL constraint failed: if_customer.created_at"), PostgreSQL ('null value in column
# "created_at" of relation …') and MySQL/MariaDB ("Column 'created_at' cannot be null") word it.
_CONSTRAINT_COLUMN = [
    re.compile(r"(?:NOT NULL|UNIQUE) constraint failed: [\w.\"]*?\.\"?(\w+)\"?(?:,|$)"),
    re.compile(r'null value in column "(\w+)"'),
    re.compile(r"Column '(\w+)' cannot be null"),
    re.compile(r"Key \((\w+)\)=\(.*\) already exists"),
]


def column_named_by(message: str) -> str:
    """The column the engine's error names, or "" when it names none (a foreign key in SQLite)."""
    for pattern in _CONSTRAINT_COLUMN:
        found = pattern.search(message)
        if found:
            return found.group(1)
    return ""


@dataclass
class RuleAtFault:
    """What to fix for a failing test: an attribute's rule (its grid row), or the entity's FROM
    clause and filter (its page), and how it was found."""

    label: str
    url: str
    reason: str


@dataclass
class EntityOutcome:
    """One entity of a run: loaded (rows), failed (the engine's message), or not loaded (why)."""

    entity: str
    state: str  # "loaded", "failed" or "skipped"
    rows: int | None = None
    message: str = ""
    passed: int = 0
    failed: int = 0
    faults: list[RuleAtFault] = field(default_factory=list)


def run_results(*, run: TestRun, only_failing: bool = False) -> dict:
    """A run's results grouped by entity (failing first within each), what each entity loaded,
    and for each failure the rule at fault; four queries whatever the size."""
    results = number_cases(UnitTestResult.objects.filter(run=run).order_by("position"))
    rows = _mapping_rows(run, results)
    groups: dict[str, list[UnitTestResult]] = {}
    for result in results:
        if not result.passed:
            result.fault = _rule_at_fault(run, result, results, rows)
            result.mapping_url = result.fault.url if result.fault else ""
        if only_failing and result.passed:
            continue
        groups.setdefault(result.entity_name, []).append(result)
    for items in groups.values():
        items.sort(key=lambda r: (r.passed, r.position))
    return {"groups": groups, "entities": _entity_outcomes(run, results)}


@dataclass
class _MappingRows:
    entity_pks: dict[str, int]  # entity name → its EntityMapping pk
    attributes: dict[tuple[str, str], int]  # (entity, attribute) → AttributeMapping pk
    by_pk: dict[int, tuple[str, str]]


def _mapping_rows(run: TestRun, results: list[UnitTestResult]) -> _MappingRows:
    """The mapping rows of the entities with a failing test, in two queries."""
    names = {r.entity_name for r in results if not r.passed}
    entity_pks = dict(
        EntityMapping.objects.filter(
            engagement=run.engagement_id, entity_name__in=names
        ).values_list("entity_name", "pk")
    )
    attributes: dict[tuple[str, str], int] = {}
    by_pk: dict[int, tuple[str, str]] = {}
    for pk, entity, attribute in AttributeMapping.objects.filter(
        entity_mapping_id__in=entity_pks.values()
    ).values_list("pk", "entity_mapping__entity_name", "attribute_name"):
        attributes[(entity, attribute)] = pk
        by_pk[pk] = (entity, attribute)
    return _MappingRows(entity_pks, attributes, by_pk)


def _grid_row(run: TestRun, rows: _MappingRows, entity: str, attribute_pk: int) -> str:
    url = reverse("mapping-entity", args=[run.engagement.slug, rows.entity_pks[entity]])
    return f"{url}#row-{attribute_pk}"


def _rule_at_fault(
    run: TestRun, result: UnitTestResult, results: list[UnitTestResult], rows: _MappingRows
) -> RuleAtFault | None:
    """The attribute whose rule a failing test points at: the one the check is about; for a load
    that failed, the column the engine's error names, else the attribute of a failing check of
    the same entity; for an entity-wide check, the entity's FROM clause and filter."""
    entity = result.entity_name
    if entity not in rows.entity_pks:
        return None  # the entity mapping is gone since the run
    if result.attribute_mapping_id in rows.by_pk:
        return RuleAtFault(
            f"{entity}.{rows.by_pk[result.attribute_mapping_id][1]}",
            _grid_row(run, rows, entity, result.attribute_mapping_id),
            "the attribute this test checks",
        )
    if (entity, result.attribute_name) in rows.attributes:
        return RuleAtFault(
            f"{entity}.{result.attribute_name}",
            _grid_row(run, rows, entity, rows.attributes[(entity, result.attribute_name)]),
            "the attribute this test checks",
        )
    if result.test_type == TestType.LOAD:
        column = column_named_by(result.actual)
        if (entity, column) in rows.attributes:
            return RuleAtFault(
                f"{entity}.{column}",
                _grid_row(run, rows, entity, rows.attributes[(entity, column)]),
                "the column the database named when the load failed",
            )
        for other in results:
            if (
                other.entity_name == entity
                and not other.passed
                and other.attribute_mapping_id in rows.by_pk
            ):
                return RuleAtFault(
                    f"{entity}.{other.attribute_name}",
                    _grid_row(run, rows, entity, other.attribute_mapping_id),
                    f"its rows fail “{other.name}”",
                )
    url = reverse("mapping-entity", args=[run.engagement.slug, rows.entity_pks[entity]])
    return RuleAtFault(f"{entity}: driving table, joins and filter", url, "an entity-wide test")


def _entity_outcomes(run: TestRun, results: list[UnitTestResult]) -> list[EntityOutcome]:
    """Per entity, in load order as the run met them: what loaded and the tests it passed."""
    outcomes: dict[str, EntityOutcome] = {}
    for entity, rows in run.entity_rows.items():
        outcomes[entity] = EntityOutcome(entity, "loaded", rows=rows)
    for result in results:
        outcome = outcomes.setdefault(
            result.entity_name, EntityOutcome(result.entity_name, "loaded")
        )
        if result.test_type == TestType.LOAD and not result.passed:
            outcome.state, outcome.message = "failed", result.actual
        if result.passed:
            outcome.passed += 1
        else:
            outcome.failed += 1
            fault = getattr(result, "fault", None)
            if fault and fault.url not in {f.url for f in outcome.faults}:
                outcome.faults.append(fault)
    for entity, why in run.skipped.items():
        outcomes[entity] = EntityOutcome(entity, "skipped", message=why)
    if run.status == RunStatus.ERROR:
        return []  # it stopped before loading: its message says why
    return list(outcomes.values())


def latest_reconciliation(*, engagement) -> TestRun | None:
    """The engagement's latest finished run that wrote a reconciliation report (the one the
    cutover step "First full run validated" links to), or None."""
    return (
        TestRun.objects.filter(engagement=engagement)
        .exclude(reconciliation={})
        .order_by("-finished_at", "-id")
        .first()
    )
