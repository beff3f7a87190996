"""Write the ETL artifacts of DESIGN.md ("Generated ETL") for one dialect, from an EtlPlan.

DIR/manifest.json, DIR/sql/00_create_interface.sql, DIR/sql/NN_<entity>.sql, DIR/dbt/…,
DIR/airflow/<slug>_dag.py, DIR/docs/etl_job_design.md, DIR/tests/unit_tests.sql (on the target),
DIR/tests/mart_checks.sql (on the Mart).
"""

from __future__ import annotations

import json
import re
from pathlib import Path


from . import sql
from .dbt import dbt_files
from .plan import EtlPlan
from .scripts import LOAD, PURGE, Script, etl_scripts
from .unit_tests import mart_checks_sql, unit_tests_sql

SCHEDULES = {"hourly": "@hourly", "daily": "@daily", "weekly": "@weekly", "monthly": "@monthly"}


def _schedule(plan: EtlPlan) -> str:
    """The agreed schedule: the frequency most entities share (a cron string is kept as written)."""
    frequencies = [e.frequency for e in plan.loadable]
    if not frequencies:
        return "@daily"
    common = max(dict.fromkeys(frequencies), key=frequencies.count)
    return SCHEDULES.get(common, common)


def write_artifacts(plan: EtlPlan, *, dialect: str, out: Path) -> dict:
    if dialect not in sql.DIALECTS:
        raise ValueError(f"Unknown dialect '{dialect}' (one of {', '.join(sql.DIALECTS)}).")
    out = Path(out)
    files: dict[str, str] = {}
    scripts = etl_scripts(plan, dialect)
    for script in scripts:
        files[script.path] = script.render(dialect, header=script_header(plan, script, dialect))
    files.update(dbt_files(plan, dialect))
    slug = re.sub(r"\W", "_", plan.engagement.slug)
    files[f"airflow/{slug}_dag.py"] = _dag(plan, slug, scripts)
    files["docs/etl_job_design.md"] = job_design(plan, dialect=dialect)
    files["tests/unit_tests.sql"] = unit_tests_sql(plan, dialect)
    files["tests/mart_checks.sql"] = mart_checks_sql(plan, dialect)
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    manifest = {
        # The spec version when the mapping is exactly it (else null: a draft), and the hash
        # a sign-off of that version approved; see README "Generated ETL".
        "spec_version": plan.stamp.version,
        "content_hash": plan.content_hash,
        "approved": plan.stamp.approved,
        "dialect": dialect,
        "contract": {"name": plan.contract_name, "version": plan.contract_version},
        "load_order": plan.load_order,
        "skipped": {e.name: e.skipped for e in plan.entities if e.skipped},
        "create": scripts[0].path,
        "entities": _manifest_entities(scripts),
        "unit_tests": "tests/unit_tests.sql",
        "files": sorted(files),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def stamp_line(plan: EtlPlan) -> str:
    """What every artifact says of the spec it was generated from."""
    stamp = plan.stamp
    version = f"spec version {stamp.version}" if stamp.version else "a working copy"
    verdict = "approved" if stamp.approved else "NOT APPROVED (draft)"
    return f"Generated from {version}, content hash {plan.content_hash}, {verdict}."


def script_header(plan: EtlPlan, script: Script, dialect: str) -> list[str]:
    lines = [f"{plan.contract_name} {plan.contract_version} — {dialect}. {stamp_line(plan)}"]
    entity = script.entity
    if entity is None:
        lines.append("Creates the interface tables that do not exist yet, parents first.")
    elif script.phase == PURGE:
        lines.append(
            f"{entity.name}: removes the rows whose source row is gone (after every load, "
            "children first)."
        )
    else:
        lines.append(
            f"{entity.name}: {entity.strategy_label.lower()}"
            + (f" {entity.watermark}" if entity.watermark else "")
            + (f" (key {', '.join(entity.primary_key)})" if entity.primary_key else "")
            + f"; {entity.frequency}. Running it twice changes nothing."
        )
    return lines


def _manifest_entities(scripts: list[Script]) -> list[dict]:
    purges = {s.entity.name: s.path for s in scripts if s.phase == PURGE and s.entity}
    return [
        {
            "name": s.entity.name,
            "table": s.entity.table,
            "strategy": s.entity.strategy,
            "watermark": s.entity.watermark or None,
            "schedule": s.entity.schedule,
            "primary_key": s.entity.primary_key,
            "load": s.path,
            "purge": purges.get(s.entity.name),
        }
        for s in scripts
        if s.phase == LOAD and s.entity is not None
    ]


# --- Airflow --------------------------------------------------------------------------------


def _dag(plan: EtlPlan, slug: str, scripts: list[Script]) -> str:
    paths = {s.entity.name: s.path for s in scripts if s.phase == LOAD and s.entity}
    entities = plan.loadable
    lines = [
        f'"""Load the {plan.contract_name} interface tables in load order (generated)."""',
        "",
        "from __future__ import annotations",
        "",
        "from pathlib import Path",
        "",
        "import pendulum",
        "from airflow import DAG",
        "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator",
        "",
        f'CONN_ID = "{slug}_target"',
        "",
        "with DAG(",
        f'    dag_id="{slug}_interface_load",',
        f"    schedule={_schedule(plan)!r},",
        '    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),',
        "    catchup=False,",
        "    template_searchpath=[str(Path(__file__).resolve().parent.parent)],",
        f'    tags=["mapping-workbench", "{slug}"],',
        ") as dag:",
    ]
    names = []
    for entity in entities:
        task = "load_" + re.sub(r"\W", "_", entity.name)
        names.append((entity, task))
        lines += [
            f"    {task} = SQLExecuteQueryOperator(",
            f'        task_id="{task}",',
            "        conn_id=CONN_ID,",
            f'        sql="{paths[entity.name]}",',
            "    )",
        ]
    for entity, task in names:
        for fk in entity.foreign_keys:
            parent = next((t for e, t in names if e.name == fk.parent_entity), None)
            if parent and parent != task:
                lines.append(f"    {parent} >> {task}")
    return "\n".join(lines) + "\n"


# --- the job design ----------------------------------------------------------------------------


def job_design(plan: EtlPlan, *, dialect: str) -> str:
    out = [
        f"# ETL job design — {plan.contract_name} {plan.contract_version}",
        "",
        f"Generated by the Mapping Workbench for engagement `{plan.engagement.slug}` "
        f"(content hash `{plan.content_hash[:12]}`, dialect {dialect}).",
        "",
        "## Orchestration",
        "",
        "One Airflow DAG (`airflow/`) runs one task per interface entity in load order; the same "
        "SQL is available as a dbt project (`dbt/`, one model per entity, tests from the contract) "
        "and as plain SQL scripts (`sql/`, run in file order). Each entity loads in one transaction "
        "with its load strategy; merged entities are purged of deleted source rows afterwards, "
        "children first. Every script can run twice: the second run changes nothing.",
        f"Schedule: `{_schedule(plan)}`.",
        "",
        "## Load sequence",
        "",
        "| # | entity | table | frequency | load strategy | depends on |",
        "|---|---|---|---|---|---|",
    ]
    for n, entity in enumerate(plan.loadable, start=1):
        parents = ", ".join(sorted({fk.parent_entity for fk in entity.foreign_keys})) or "—"
        strategy = entity.strategy_label + (f" ({entity.watermark})" if entity.watermark else "")
        out.append(
            f"| {n} | {entity.name} | {entity.table} | {entity.frequency} | {strategy} "
            f"| {parents} |"
        )
    skipped = [e for e in plan.entities if e.skipped]
    if skipped:
        out += ["", "Not generated yet:", ""]
        out += [f"- **{e.name}**: {e.skipped}" for e in skipped]
    for entity in plan.loadable:
        assert entity.driving is not None  # a loadable entity has its driving table
        out += [
            "",
            f"## {entity.name}",
            "",
            f"**Extraction** from `{entity.driving.sql(dialect=dialect)}`.",
            "",
        ]
        if entity.joins:
            out.append("**Joins and lookups:**")
            out.append("")
            out += [f"- `{j.sql(dialect=dialect)}`" for j in entity.joins]
            out.append("")
        out.append(
            f"**Filter:** `{entity.where.sql(dialect=dialect)}`"
            if entity.where is not None
            else "**Filter:** none (every row of the driving table)."
        )
        out += ["", "| attribute | rule | default |", "|---|---|---|"]
        for column in entity.columns:
            rule = column.rule.sql(dialect=dialect) if column.rule is not None else "—"
            default = column.mapping.default_value if column.mapping else ""
            rule = rule.replace("|", "\\|")
            out.append(f"| {column.name} | `{rule}` | {default or '—'} |")
    return "\n".join(out) + "\n"
