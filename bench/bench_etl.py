"""ETL speed (issues 8, 13 and 18) on the local PostgreSQL Mart, one interface entity merged on
its key, at 1,000,000 rows (`BENCH_ROWS=5000000`, or `1000000,5000000`, picks the scales; 5M takes
about half an hour on two busy cores, so it is opt-in):

- the first load by the generated scripts against a hand-written INSERT INTO … SELECT;
- the daily merge (the Mart changed overnight, the tables vacuumed and checkpointed as a day
  leaves them) against a hand-written INSERT … ON CONFLICT DO UPDATE of the same rows (budget
  2x);
- the whole test run a user starts (`manage.py run_etl_test`: the generated scripts on the target
  loaded yesterday, every unit test, the results stored) against the hand-written INSERT … SELECT
  of the same rows (budget 1.5x);
- memory: the growth of a forked child's peak RSS running that whole test run, at the scale
  against 100,000 rows (budget 1.25x): it must not grow with the rows.

Figure and floor are interleaved (bench.common.timed_pair). Creates its own PostgreSQL database for
the Mart and drops it at the end; the app rows go to a scratch app database.
"""

from __future__ import annotations

import io
import os
import time

import sqlalchemy as sa
from django.core.management import call_command

from bench.common import Result, peak_memory_mib, scratch_database, timed_pair

SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = f"wb_bench_etl_{os.getpid()}"
SCALES = [int(rows) for rows in os.environ.get("BENCH_ROWS", "1000000").split(",")]
SMALL = 100_000
REPEATS = {1_000_000: 3}  # larger scales are timed once: one pair takes minutes

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
        with scratch_database("wb_bench_etl_app"):
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
    # mapped by the Tech BA; the test runs are the ETL developer's
    Membership.objects.filter(engagement=engagement, user=user).update(role=Role.ETL_DEVELOPER)
    return plan, engagement, user


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


class Mart:
    """The Mart and its interface schema at one scale, and the ways to put them in a known state
    before each measured run."""

    def __init__(self, url: str, rows: int):
        from exports.testrun import engine

        self.url, self.rows = url, rows
        self.sql = sa.create_engine(url)
        self.target = engine._engine(url, role="target")
        self.scripts: list = []
        self.daily: list = []
        started = time.perf_counter()
        _rebuild(self.sql, rows)
        print(f"  built {rows:,} Mart rows in {time.perf_counter() - started:.1f} s", flush=True)

    def load_with(self, plan) -> None:
        """The generated scripts of `plan` (planned once the Mart is in the catalog)."""
        from exports.etl.scripts import LOAD, PURGE, etl_scripts

        self.scripts = etl_scripts(plan, "postgres", target_schema="iface")
        self.daily = [s for s in self.scripts if s.phase in (LOAD, PURGE)]

    def dispose(self) -> None:
        self.sql.dispose()
        self.target.dispose()

    def execute(self, text: str) -> int:
        with self.sql.begin() as conn:
            return conn.exec_driver_sql(text.replace("%", "%%")).rowcount

    def empty_interface(self) -> None:
        self.execute("DROP TABLE IF EXISTS iface.if_customer")
        self.execute(HAND_TABLE)

    def generated_scripts(self, scripts) -> None:
        from exports.testrun import engine

        loads, failures = engine.run_scripts(scripts, self.target, "postgres")
        assert not failures, failures

    def first_load(self) -> None:
        self.generated_scripts(self.scripts)

    def hand_written(self) -> None:
        assert self.execute(HAND_WRITTEN) == self.rows

    def start_a_day(self) -> None:
        """Yesterday's load kept aside, then the Mart changes overnight."""
        self.empty_interface()
        self.first_load()
        self.execute("CREATE TABLE iface.yesterday AS SELECT * FROM iface.if_customer")
        self.execute(NEXT_DAY)

    def yesterday(self) -> None:
        """The interface table as yesterday's run left it, a day later (and an empty
        hand-written table)."""
        self.execute(HAND_TABLE)
        self.execute("TRUNCATE iface.if_customer")
        self.execute("INSERT INTO iface.if_customer SELECT * FROM iface.yesterday")
        self.a_day_later()

    def a_day_later(self) -> None:
        """What a day does between two runs: autovacuum has been through the tables the run
        reads and writes, and a checkpoint has written their pages (the run's first change to a
        page writes it whole to the WAL again; nothing the set-up wrote is left for the
        measured run to flush)."""
        with self.sql.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("iface.if_customer", "mart.crm_customer"):
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
            conn.exec_driver_sql("CHECKPOINT")

    def hand_merge(self) -> None:
        assert self.execute(HAND_MERGE) == self.rows


def _test_run(mart: Mart, engagement, user) -> None:
    """The whole test run as a user starts it: load, every unit test, the results stored."""
    from exports.models import TestRun

    call_command(
        "run_etl_test",
        engagement=engagement.slug,
        as_user=user.username,
        source=mart.url,
        target=mart.url,
        target_schema="iface",
        stdout=io.StringIO(),
    )
    run = TestRun.objects.filter(engagement=engagement).latest("pk")
    assert run.rows_loaded == mart.rows and not run.tests_failed, run.message


def _scale(url: str, plan, engagement, user, rows: int) -> list[Result]:
    mart = Mart(url, rows)
    mart.load_with(plan)
    repeat = REPEATS.get(rows, 1)
    started = time.perf_counter()
    try:
        # The first load: the generated scripts into an empty table, against INSERT … SELECT.
        first, insert_select = timed_pair(
            mart.first_load, mart.hand_written, repeat=repeat, setup=mart.empty_interface
        )
        # Each later run starts from yesterday's load, the Mart changed overnight.
        mart.start_a_day()
        merge, on_conflict = timed_pair(
            lambda: mart.generated_scripts(mart.daily),
            mart.hand_merge,
            repeat=repeat,
            setup=mart.yesterday,
        )
        whole, hand_insert = timed_pair(
            lambda: _test_run(mart, engagement, user),
            mart.hand_written,
            repeat=repeat,
            setup=mart.yesterday,
        )
        mart.yesterday()
        peak = peak_memory_mib(lambda: _test_run(mart, engagement, user))
    finally:
        mart.dispose()
    print(f"  {rows:,} rows measured in {time.perf_counter() - started:.0f} s", flush=True)
    return [
        Result(
            name=f"first load of {rows:,} Mart rows by the generated scripts (create, stage, "
            "update, insert, purge)",
            seconds=first,
            baseline_name="hand-written INSERT INTO … SELECT",
            baseline_seconds=insert_select,
        ),
        Result(
            name=f"daily merge of {rows:,} rows into a loaded entity of {rows:,} (5 % changed, "
            "1 % closed) by the generated scripts",
            seconds=merge,
            baseline_name="hand-written INSERT … ON CONFLICT DO UPDATE",
            baseline_seconds=on_conflict,
            budget_ratio=2.0,
        ),
        Result(
            name=f"whole test run of that day, {rows:,} rows (run_etl_test: load, every unit "
            "test, results stored)",
            seconds=whole,
            baseline_name="hand-written INSERT INTO … SELECT",
            baseline_seconds=hand_insert,
            budget_ratio=1.5,
        ),
        Result(
            name=f"peak RSS growth of that whole test run, {rows:,} rows",
            seconds=peak,
            baseline_name=f"of {SMALL:,} rows",
            baseline_seconds=0.0,  # the small scale's, filled in by _run
            budget_ratio=1.25,
            unit="MiB",
        ),
    ]


def _run(url: str) -> list[Result]:
    # The small scale first: its Mart is the one the catalog introspects to plan the loads.
    small = Mart(url, SMALL)
    try:
        plan, engagement, user = _plan(url)
        small.load_with(plan)
        small.start_a_day()
        small.yesterday()
        small_peak = peak_memory_mib(lambda: _test_run(small, engagement, user))
    finally:
        small.dispose()
    results: list[Result] = []
    for rows in SCALES:
        results += _scale(url, plan, engagement, user, rows)
    for result in results:
        if result.unit == "MiB":
            result.baseline_seconds = small_peak
    return results
