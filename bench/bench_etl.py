"""ETL speed (issues 8 and 13) on the local PostgreSQL, 1,000,000 Mart rows, one interface entity
merged on its key: the generated scripts' first load against a hand-written INSERT INTO … SELECT,
and the daily merge (the Mart changed overnight) against a hand-written INSERT … ON CONFLICT DO
UPDATE of the same rows (budget 2x), figure and baseline interleaved. Memory: peak RSS of a child
process running the merge of 100,000 and of 1,000,000 rows — it must not grow with the rows.

Creates its own PostgreSQL database and drops it at the end; the app rows go to a scratch app
database (bench_catalog.scratch_app_database).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time

import sqlalchemy as sa

from bench.bench_catalog import scratch_app_database
from bench.common import Result, timed, timed_pair

SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = f"wb_bench_etl_{os.getpid()}"
ROWS = 1_000_000
SMALL = 100_000

CONTRACT = """
apiVersion: v3.1.0
kind: DataContract
id: urn:bench:etl
name: Bench ETL
version: 1.0.0
status: active
schema:
  - name: customer
    physicalName: if_customer
    properties:
      - {name: customer_id, logicalType: string, physicalType: VARCHAR(36), required: true,
         primaryKey: true, primaryKeyPosition: 1, unique: true}
      - {name: email, logicalType: string, physicalType: VARCHAR(254)}
      - {name: first_name, logicalType: string, physicalType: VARCHAR(100)}
      - {name: lifecycle_stage, logicalType: string, physicalType: VARCHAR(20), required: true}
      - {name: email_opt_in, logicalType: boolean, physicalType: BOOLEAN, required: true}
      - {name: created_at, logicalType: timestamp, physicalType: TIMESTAMP, required: true}
"""

BUILD = """
CREATE SCHEMA mart;
CREATE TABLE mart.crm_customer AS
SELECT i AS customer_id,
       CASE WHEN i % 25 = 0 THEN NULL ELSE 'User.' || i || '@Example.com' END AS email,
       ' Name' || (i % 5000) || ' ' AS first_name,
       (ARRAY['ACTIVE', 'active', 'Inactive', 'CLOSED', NULL])[1 + i % 5] AS status,
       CASE WHEN i % 3 = 0 THEN 'Y' ELSE 'N' END AS opt_in,
       to_char(timestamp '2020-01-01' + (i % 100000) * interval '1 minute',
               'YYYY-MM-DD HH24:MI:SS') AS created_at
FROM generate_series(1, {rows}) AS i;
ALTER TABLE mart.crm_customer ADD PRIMARY KEY (customer_id);
ANALYZE mart.crm_customer;
CREATE SCHEMA iface;
"""

RULES = {
    "customer_id": "CAST(c.customer_id AS VARCHAR)",
    "email": "LOWER(TRIM(c.email))",
    "first_name": "TRIM(c.first_name)",
    "lifecycle_stage": "CASE UPPER(c.status) WHEN 'ACTIVE' THEN 'active' WHEN 'INACTIVE' THEN "
    "'lapsed' WHEN 'CLOSED' THEN 'churned' ELSE 'prospect' END",
    "email_opt_in": "CASE WHEN c.opt_in = 'Y' THEN TRUE ELSE FALSE END",
    "created_at": "CAST(c.created_at AS TIMESTAMP)",
}

HAND_WRITTEN = """
INSERT INTO iface.hand_customer (customer_id, email, first_name, lifecycle_stage, email_opt_in,
                                 created_at)
SELECT CAST(c.customer_id AS VARCHAR(36)),
       CAST(LOWER(TRIM(c.email)) AS VARCHAR(254)),
       CAST(TRIM(c.first_name) AS VARCHAR(100)),
       CAST(CASE UPPER(c.status) WHEN 'ACTIVE' THEN 'active' WHEN 'INACTIVE' THEN 'lapsed'
            WHEN 'CLOSED' THEN 'churned' ELSE 'prospect' END AS VARCHAR(20)),
       CASE WHEN c.opt_in = 'Y' THEN TRUE ELSE FALSE END,
       CAST(c.created_at AS TIMESTAMP)
FROM mart.crm_customer AS c
"""

HAND_TABLE = """
DROP TABLE IF EXISTS iface.hand_customer;
CREATE TABLE iface.hand_customer (customer_id VARCHAR(36) NOT NULL, email VARCHAR(254),
  first_name VARCHAR(100), lifecycle_stage VARCHAR(20) NOT NULL, email_opt_in BOOLEAN NOT NULL,
  created_at TIMESTAMP NOT NULL, PRIMARY KEY (customer_id));
"""


def _admin():
    return sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")


def run() -> list[Result]:
    admin = _admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
    try:
        with scratch_app_database():
            return _run(f"{SERVER}/{DATABASE}")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.dispose()


def _plan(url: str):
    from catalog.services import sources as catalog_services
    from contracts import services as contract_services
    from exports.etl.plan import build_plan
    from mappings.models import EntityMapping
    from mappings.services import mapping as mapping_services
    from tests.factories import EngagementFactory, UserFactory
    from workbench.choices import Role
    from workbench.models import Membership

    user = UserFactory(username=f"bench-etl-{os.getpid()}", is_superuser=True)
    engagement = EngagementFactory(slug=f"bench-etl-{os.getpid()}", created_by=user)
    Membership.objects.filter(engagement=engagement, user=user).update(role=Role.TECH_BA)
    layer = contract_services.contract_import(
        engagement=engagement, file_name="bench.yaml", content=CONTRACT.encode(), acting_user=user
    )
    contract_services.contract_publish(layer=layer, acting_user=user)
    source = catalog_services.source_system_create(
        engagement=engagement, name="mart", url=url, default_schema="mart", acting_user=user
    )
    catalog_services.catalog_introspect(source=source, acting_user=user)
    mapping_services.mapping_prepare(engagement=engagement, acting_user=user)
    entity = EntityMapping.objects.get(engagement=engagement, entity_name="customer")
    entity = mapping_services.entity_mapping_update(
        entity_mapping=entity,
        data={"driving_table": "mart.crm_customer", "driving_alias": "c"},
        acting_user=user,
    )
    for name, rule in RULES.items():
        mapping_services.attribute_mapping_update(
            attribute_mapping=entity.attributes.get(attribute_name=name),
            data={"transformation": rule},
            acting_user=user,
        )
    plan = build_plan(engagement=engagement)
    assert plan.load_order == ["customer"], [e.skipped for e in plan.entities]
    return plan


def _rebuild(engine: sa.Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS mart CASCADE")
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS iface CASCADE")
        conn.exec_driver_sql(BUILD.format(rows=rows).replace("%", "%%"))


HAND_MERGE = """
INSERT INTO iface.if_customer AS t (customer_id, email, first_name, lifecycle_stage,
                                    email_opt_in, created_at)
SELECT CAST(c.customer_id AS VARCHAR(36)),
       CAST(LOWER(TRIM(c.email)) AS VARCHAR(254)),
       CAST(TRIM(c.first_name) AS VARCHAR(100)),
       CAST(CASE UPPER(c.status) WHEN 'ACTIVE' THEN 'active' WHEN 'INACTIVE' THEN 'lapsed'
            WHEN 'CLOSED' THEN 'churned' ELSE 'prospect' END AS VARCHAR(20)),
       CASE WHEN c.opt_in = 'Y' THEN TRUE ELSE FALSE END,
       CAST(c.created_at AS TIMESTAMP)
FROM mart.crm_customer AS c
ON CONFLICT (customer_id) DO UPDATE SET email = EXCLUDED.email,
  first_name = EXCLUDED.first_name, lifecycle_stage = EXCLUDED.lifecycle_stage,
  email_opt_in = EXCLUDED.email_opt_in, created_at = EXCLUDED.created_at
"""
# A day in the Mart: 5 % of the customers change their e-mail, 1 % close their account.
NEXT_DAY = """
UPDATE mart.crm_customer SET email = 'moved.' || customer_id || '@example.org'
WHERE customer_id % 20 = 7;
UPDATE mart.crm_customer SET status = 'CLOSED' WHERE customer_id % 100 = 3;
ANALYZE mart.crm_customer;
"""


def _merge_peak(url: str, plan, scripts) -> tuple[int, float]:
    """Peak RSS (KiB) of a child process that runs the entity's merge and purge scripts."""
    from exports.testrun import engine

    def child(queue):
        started = time.perf_counter()
        target = engine._engine(url, role="target")
        loads, failures = engine.run_scripts(scripts, target, "postgres")
        assert not failures, failures
        target.dispose()
        queue.put(
            (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - started)
        )

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    result = queue.get(timeout=1800)
    process.join()
    return result


def _run(url: str) -> list[Result]:
    from exports.etl.scripts import LOAD, PURGE, etl_scripts
    from exports.testrun import engine

    mart = sa.create_engine(url)
    started = time.perf_counter()
    _rebuild(mart, ROWS)
    print(f"  built {ROWS:,} Mart rows in {time.perf_counter() - started:.1f} s", flush=True)
    plan = _plan(url)
    scripts = etl_scripts(plan, "postgres", target_schema="iface")
    daily = [s for s in scripts if s.phase in (LOAD, PURGE)]
    target = engine._engine(url, role="target")

    def first_load():
        loads, failures = engine.run_scripts(scripts, target, "postgres")
        assert not failures and loads[0].inserted == ROWS, (failures, loads)

    def empty_interface():
        with mart.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS iface.if_customer")
            conn.exec_driver_sql(HAND_TABLE)

    def hand_written():
        with mart.begin() as conn:
            assert conn.exec_driver_sql(HAND_WRITTEN).rowcount == ROWS

    # The first load: the generated scripts into an empty table, against INSERT … SELECT.
    first, insert_select = timed_pair(first_load, hand_written, setup=empty_interface)

    # The daily merge: the Mart changes overnight; each repeat starts from yesterday's load.
    empty_interface()
    first_load()
    with mart.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE iface.yesterday AS SELECT * FROM iface.if_customer")
        conn.exec_driver_sql(NEXT_DAY.replace("%", "%%"))

    def yesterday():
        with mart.begin() as conn:
            conn.exec_driver_sql("TRUNCATE iface.if_customer")
            conn.exec_driver_sql("INSERT INTO iface.if_customer SELECT * FROM iface.yesterday")
            conn.exec_driver_sql("ANALYZE iface.if_customer")

    def generated_merge():
        loads, failures = engine.run_scripts(daily, target, "postgres")
        assert not failures, failures

    def hand_merge():
        with mart.begin() as conn:
            assert conn.exec_driver_sql(HAND_MERGE).rowcount == ROWS

    merge, on_conflict = timed_pair(generated_merge, hand_merge, setup=yesterday)

    def full_run():
        outcome = engine.run(
            plan, engine.RunOptions(source_url=url, target_url=url, target_schema="iface")
        )
        assert not outcome.failed, outcome.summary()

    yesterday()
    whole = timed(full_run, repeat=1, setup=yesterday)

    yesterday()
    peak_large, seconds_large = _merge_peak(url, plan, daily)
    target.dispose()
    _rebuild(mart, SMALL)
    small_plan_scripts = etl_scripts(plan, "postgres", target_schema="iface")
    with mart.begin() as conn:
        conn.exec_driver_sql(HAND_TABLE.replace("hand_customer", "if_customer"))
    peak_small, seconds_small = _merge_peak(url, plan, small_plan_scripts)
    mart.dispose()
    print(
        f"  the generated merge: peak RSS {peak_small / 1024:.0f} MiB for {SMALL:,} rows "
        f"({seconds_small:.1f} s), {peak_large / 1024:.0f} MiB for {ROWS:,} rows "
        f"({seconds_large:.1f} s)",
        flush=True,
    )
    return [
        Result(
            name=f"first load of {ROWS:,} Mart rows by the generated scripts (create, stage, "
            "update, insert, purge)",
            seconds=first,
            baseline_name="hand-written INSERT INTO … SELECT",
            baseline_seconds=insert_select,
        ),
        Result(
            name=f"daily merge of {ROWS:,} rows into a loaded entity of {ROWS:,} (5 % changed, "
            "1 % closed) by the generated scripts",
            seconds=merge,
            baseline_name="hand-written INSERT … ON CONFLICT DO UPDATE",
            baseline_seconds=on_conflict,
            budget_ratio=2.0,
        ),
        Result(
            name="  ...the whole test run of that day with its unit tests",
            seconds=whole,
            baseline_name="hand-written INSERT … ON CONFLICT DO UPDATE",
            baseline_seconds=on_conflict,
        ),
        Result(
            name=f"peak RSS of the merge of {ROWS:,} rows (MiB as seconds)",
            seconds=peak_large / 1024,
            baseline_name=f"of {SMALL:,} rows",
            baseline_seconds=peak_small / 1024,
            budget_ratio=1.25,
        ),
    ]
