"""The reconciliation report of a test run — what the cutover step "Validate first full run" asks
for: per entity, the source rows after joins and filter against the rows in the target, what the
load inserted, updated and deleted where the engine knows it, the entity's unit tests, and timings.

It is built once from the run's outcome (`reconciliation_report`), kept as JSON on the TestRun and
rendered on demand as CSV or Markdown. The source and target figures are the record-count test's
own queries, so the report and the Unit Test Package never disagree.
"""

from __future__ import annotations

import csv
import io

from exports.etl.plan import EntityPlan, EtlPlan

from .choices import TestType
from .engine import EntityLoad, RunOutcome

CSV_HEADER = [
    "Entity",
    "Table",
    "Strategy",
    "Source rows",
    "Target rows",
    "Difference",
    "Inserted",
    "Updated",
    "Deleted",
    "Tests passed",
    "Tests failed",
    "Failed tests",
    "Load seconds",
    "Reconciled",
]


def reconciliation_report(plan: EtlPlan, outcome: RunOutcome) -> dict:
    """The report of a finished run (JSON-ready): one row per entity the run loaded or tried to."""
    loads = {load.entity: load for load in outcome.loads}
    entities = [_entity_row(entity, loads.get(entity.name), outcome) for entity in plan.loadable]
    load_seconds = sum(load.seconds for load in outcome.loads)
    return {
        "spec_version": plan.stamp.version,
        "content_hash": plan.content_hash,
        "approved": plan.stamp.approved,
        "dialect": outcome.dialect,
        "entities": entities,
        "skipped": {e.name: e.skipped for e in plan.entities if e.skipped},
        "timings": {
            "load_seconds": round(load_seconds, 3),
            "checks_seconds": round(outcome.checks_seconds, 3),
            "total_seconds": round(load_seconds + outcome.checks_seconds, 3),
        },
        "reconciled": bool(entities) and all(e["reconciled"] for e in entities),
    }


def _entity_row(entity: EntityPlan, load: EntityLoad | None, outcome: RunOutcome) -> dict:
    results = [r for r in outcome.results if r.check.entity == entity.name]
    count = next((r for r in results if r.check.test_type == TestType.RECORD_COUNT), None)
    source = count.figures.get("source") if count else None
    target = count.figures.get("target") if count else None
    failed = [r.check.name for r in results if not r.passed]
    # A load that failed was rolled back: it changed nothing, and its failing test says why.
    return {
        "entity": entity.name,
        "table": entity.table,
        "strategy": str(entity.strategy),
        "source_rows": source,
        "target_rows": target,
        "difference": None if source is None or target is None else target - source,
        "inserted": load.inserted if load else 0,
        "updated": load.updated if load else 0,
        "deleted": load.deleted if load else 0,
        "tests_passed": len(results) - len(failed),
        "tests_failed": len(failed),
        "failed_tests": failed,
        "load_seconds": round(load.seconds, 3) if load else None,
        "reconciled": source is not None and source == target and not failed,
    }


def _cell(value) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def _rows(report: dict) -> list[list[str]]:
    keys = [
        "entity", "table", "strategy", "source_rows", "target_rows", "difference", "inserted",
        "updated", "deleted", "tests_passed", "tests_failed", "failed_tests", "load_seconds",
        "reconciled",
    ]  # fmt: skip
    return [[_cell(entity.get(k)) for k in keys] for entity in report.get("entities", [])]


def reconciliation_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(_rows(report))
    return out.getvalue()


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reconciliation_markdown(report: dict, *, title: str) -> str:
    timings = report.get("timings", {})
    stamp = f"spec version {report.get('spec_version') or 'none (working copy)'}"
    lines = [
        f"# {title}",
        "",
        f"- Mapping: {stamp}, hash `{(report.get('content_hash') or '')[:12]}`, "
        f"{'approved' if report.get('approved') else 'not approved'}",
        f"- Target dialect: {report.get('dialect') or 'unknown'}",
        f"- Reconciled: **{_cell(report.get('reconciled'))}**",
        f"- Timings: load {timings.get('load_seconds', 0)} s, unit tests "
        f"{timings.get('checks_seconds', 0)} s, total {timings.get('total_seconds', 0)} s",
        "",
        "| " + " | ".join(CSV_HEADER) + " |",
        "|" + "---|" * len(CSV_HEADER),
    ]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in _rows(report)]
    skipped = report.get("skipped") or {}
    if skipped:
        lines.append("")
        lines += [f"- Not loaded: **{entity}**: {_md(why)}" for entity, why in skipped.items()]
    return "\n".join(lines) + "\n"
