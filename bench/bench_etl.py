"""ETL test-run speed (issue 8): 1,000,000 Mart rows into one interface entity on the local
PostgreSQL through the test-run engine, against the equivalent hand-written INSERT INTO … SELECT
on the same database, measured in the same run (budget 1.5x). Memory: the streamed path (rows
pulled through Python in batches) for 100,000 and 1,000,000 rows, peak RSS of a child process
each — it must not grow with the row count.

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
from bench.common import Result, timed

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


def _streamed_peak(url: str, plan, rows: int) -> tuple[int, float]:
    """Peak RSS (KiB) of a child process that streams `rows` rows through Python."""
    from exports.testrun import engine

    def child(queue):
        started = time.perf_counter()
        options = engine.RunOptions(
            source_url=url, target_url=url, target_schema="iface", in_database=False
        )
        target = engine._engine(url, role="target")
        engine._create_tables(target, plan.loadable, "postgres", "iface")
        loaded = engine._load_streamed(
            target, target, plan.loadable[0], "postgres", "postgres", options
        )
        assert loaded == rows, loaded
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
    from exports.testrun import engine

    mart = sa.create_engine(url)
    started = time.perf_counter()
    _rebuild(mart, ROWS)
    print(f"  built {ROWS:,} Mart rows in {time.perf_counter() - started:.1f} s", flush=True)
    plan = _plan(url)
    entity = plan.loadable[0]
    options = engine.RunOptions(source_url=url, target_url=url, target_schema="iface")

    def drop_interface():
        with mart.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS iface.if_customer")
            conn.exec_driver_sql(HAND_TABLE)

    def hand_written():
        with mart.begin() as conn:
            assert conn.exec_driver_sql(HAND_WRITTEN).rowcount == ROWS

    def engine_load():
        target = engine._engine(url, role="target")
        engine._create_tables(target, plan.loadable, "postgres", "iface")
        assert engine._load_in_database(target, entity, "postgres", options) == ROWS
        target.dispose()

    baseline = timed(hand_written, repeat=3, setup=drop_interface)
    figure = timed(engine_load, repeat=3, setup=drop_interface)

    def full_run():
        outcome = engine.run(plan, options)
        assert outcome.rows == ROWS and not outcome.failed, outcome.summary()

    drop_interface()
    whole = timed(full_run, repeat=1, setup=drop_interface)

    peak_large, seconds_large = _streamed_peak(url, plan, ROWS)
    _rebuild(mart, SMALL)
    peak_small, seconds_small = _streamed_peak(url, plan, SMALL)
    mart.dispose()
    print(
        f"  streamed through Python (batches of {engine.BATCH_SIZE:,}): peak RSS "
        f"{peak_small / 1024:.0f} MiB for {SMALL:,} rows ({seconds_small:.1f} s), "
        f"{peak_large / 1024:.0f} MiB for {ROWS:,} rows ({seconds_large:.1f} s)",
        flush=True,
    )
    return [
        Result(
            name=f"test-run load of {ROWS:,} Mart rows into one interface entity (DDL check, "
            "transaction, generated INSERT … SELECT)",
            seconds=figure,
            baseline_name="hand-written INSERT INTO … SELECT",
            baseline_seconds=baseline,
            budget_ratio=1.5,
        ),
        Result(
            name="  ...the whole test run with its unit tests (counts, keys, values, samples)",
            seconds=whole,
            baseline_name="hand-written INSERT INTO … SELECT",
            baseline_seconds=baseline,
        ),
        Result(
            name=f"peak RSS streaming {ROWS:,} rows (MiB as seconds)",
            seconds=peak_large / 1024,
            baseline_name=f"peak RSS streaming {SMALL:,} rows",
            baseline_seconds=peak_small / 1024,
            budget_ratio=1.25,
        ),
    ]
