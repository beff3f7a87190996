"""Write the ETL artifacts of DESIGN.md ("Generated ETL") for one dialect, from an EtlPlan.

DIR/manifest.json, DIR/sql/00_create_interface.sql, DIR/sql/NN_<entity>.sql, DIR/dbt/…,
DIR/airflow/<slug>_dag.py, DIR/docs/etl_job_design.md, DIR/tests/unit_tests.sql (on the target),
DIR/tests/mart_checks.sql (on the Mart).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from sqlglot import exp

from exports.testrun.checks import all_checks

from . import sql
from .plan import EntityPlan, EtlPlan
from .scripts import LOAD, PURGE, Script, etl_scripts

MART_SCHEMAS = {"duckdb": "main", "postgres": "public", "tsql": "dbo"}
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
    files.update(_dbt_files(plan, dialect))
    slug = re.sub(r"\W", "_", plan.engagement.slug)
    files[f"airflow/{slug}_dag.py"] = _dag(plan, slug, scripts)
    files["docs/etl_job_design.md"] = job_design(plan, dialect=dialect)
    files["tests/unit_tests.sql"] = _unit_tests_sql(plan, dialect)
    files["tests/mart_checks.sql"] = _mart_checks_sql(plan, dialect)
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


# --- dbt ----------------------------------------------------------------------------------------


def _dbt_files(plan: EtlPlan, dialect: str) -> dict[str, str]:
    files = {}
    name = re.sub(r"\W", "_", plan.engagement.slug).lower() or "interface"
    files["dbt/dbt_project.yml"] = yaml.safe_dump(
        {
            "name": name,
            "version": "1.0.0",
            "config-version": 2,
            "profile": name,
            "model-paths": ["models"],
            "models": {name: {"+materialized": "table"}},
        },
        sort_keys=False,
    )
    tables: dict[str, str] = {}
    for entity in plan.loadable:
        for node in [entity.driving, *[j.this for j in entity.joins]]:
            for t in node.find_all(exp.Table) if node is not None else []:
                tables[t.name] = t.db or ""
    files["dbt/models/sources.yml"] = yaml.safe_dump(
        {
            "version": 2,
            "sources": [
                {
                    "name": "mart",
                    "description": "The Marketing Data Mart (from the workbench catalog).",
                    "schema": "{{ var('mart_schema', '"
                    + MART_SCHEMAS.get(dialect, "mart")
                    + "') }}",
                    "tables": [{"name": t} for t in sorted(tables)],
                }
            ],
        },
        sort_keys=False,
    )
    models = []
    for entity in plan.loadable:
        select = sql.select_tree(entity)
        for t in select.find_all(exp.Table):
            alias = t.alias
            replacement: exp.Expr = exp.Table(
                this=exp.Identifier(this=f"{{{{ source('mart', '{t.name}') }}}}", quoted=False)
            )
            if alias:
                replacement = exp.alias_(replacement, alias, table=True)
            t.replace(replacement)
        files[f"dbt/models/{entity.table}.sql"] = (
            f"-- {entity.name}: generated by the Mapping Workbench from the mapping\n"
            + sql.render(select, dialect)
            + "\n"
        )
        models.append(_dbt_model(entity, plan))
    files["dbt/models/schema.yml"] = yaml.safe_dump(
        {"version": 2, "models": models}, sort_keys=False, allow_unicode=True
    )
    return files


def _dbt_model(entity: EntityPlan, plan: EtlPlan) -> dict:
    columns = []
    for column in entity.columns:
        tests: list = []
        if column.required:
            tests.append("not_null")
        if (column.primary_key and len(entity.primary_key) == 1) or column.attribute.unique:
            tests.append("unique")
        if column.attribute.allowed_values:
            tests.append(
                {"accepted_values": {"values": [str(v) for v in column.attribute.allowed_values]}}
            )
        for fk in entity.foreign_keys:
            if fk.column == column.name and plan.entity(fk.parent_entity).loadable:
                tests.append(
                    {
                        "relationships": {
                            "to": f"ref('{fk.parent_table}')",
                            "field": fk.parent_column,
                        }
                    }
                )
        item: dict[str, str | list] = {
            "name": column.name,
            "description": column.attribute.description or "",
        }
        if tests:
            item["data_tests"] = tests
        columns.append(item)
    return {"name": entity.table, "description": entity.description, "columns": columns}


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


def _mart_checks_sql(plan: EtlPlan, dialect: str) -> str:
    """The checks that read the Mart (each rule's result before the load's casts could cut it),
    each rendered in its entity's Mart dialect: they run on the source database."""
    marts = {entity.name: entity.dialect for entity in plan.entities}
    out = [f"-- Checks of the {plan.contract_name} mapping to run on the Mart (the source)."]
    out.append("-- A 'fits before the cast' query counts the rows breaking the rule: 0 is a pass.")
    out.append("-- A 'field values' query lists the rule's values for the sampled keys.")
    for check in all_checks(plan, dialect=dialect):
        mart = marts.get(check.entity) or dialect
        if check.on_source and check.violations is not None:
            out.append("")
            out.append(f"-- {check.name}: {check.description}")
            out.append(sql.render_statement(check.count_tree(), mart))
        elif check.column is not None and check.source is not None:
            out.append("")
            out.append(f"-- {check.name}: {check.description}")
            out.append(
                "-- The rule's values for the sampled keys: compare them with the interface table."
            )
            out.append(sql.render_statement(check.source, mart))
    return "\n".join(out)


def _unit_tests_sql(plan: EtlPlan, dialect: str) -> str:
    out = [f"-- Unit tests of the {plan.contract_name} interface load ({dialect})."]
    out.append("-- Each query counts the rows breaking the rule: 0 is a pass.")
    if dialect == "sqlite":
        out.append("-- SQLite has no REGEXP function of its own: register one on the connection")
        out.append("-- (Python: connection.create_function('regexp', 2, …)) for the pattern tests.")
    for check in all_checks(plan, dialect=dialect):
        if check.on_source or check.violations is None:
            continue  # it reads the Mart: tests/mart_checks.sql carries it
        out.append("")
        out.append(f"-- {check.name}: {check.description}")
        if check.test_type == "record_count" and check.source is not None:
            out.append("-- source")
            out.append(sql.render_statement(check.source, dialect))
            out.append("-- target")
            out.append(sql.render_statement(check.violations, dialect))
        else:
            out.append(sql.render_statement(check.count_tree(), dialect))
    return "\n".join(out)
