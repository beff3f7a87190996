"""Catalog speed (issue 4): introspection of 1,000 tables × 30 columns and profiling of a
1,000,000-row × 20-column table, both on the local PostgreSQL, each against its bare baseline
measured in the same run. Creates a scratch database with set-based SQL and drops it at the end;
the catalog rows go to a scratch app database that is thrown away afterwards."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import contextmanager

import sqlalchemy as sa
from django.db import connections as django_connections
from sqlalchemy.engine.reflection import ObjectKind

from bench.common import Result, timed

SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = f"wb_bench_catalog_{os.getpid()}"
TABLES = 1000
COLUMNS = 30
ROWS = 1_000_000

TYPES = ["integer", "text", "varchar(50)", "numeric(12,2)", "date", "timestamp", "boolean"]

BUILD_SCHEMA = f"""
CREATE SCHEMA bench;
DO $$
DECLARE cols text;
BEGIN
  FOR t IN 1..{TABLES} LOOP
    SELECT string_agg(format('c%s %s', c, (ARRAY{TYPES!r})[1 + c % {len(TYPES)}]), ', ')
      INTO cols FROM generate_series(3, {COLUMNS}) AS c;
    EXECUTE format('CREATE TABLE bench.t%s (id integer PRIMARY KEY, parent_id integer%s, %s)',
                   t, CASE WHEN t > 1 THEN format(' REFERENCES bench.t%s (id)', t - 1) ELSE '' END, cols);
    EXECUTE format('COMMENT ON TABLE bench.t%s IS %L', t, 'bench table ' || t);
  END LOOP;
END $$;
"""

BUILD_ROWS = f"""
CREATE SCHEMA wide;
CREATE TABLE wide.events AS
SELECT i AS id,
       i % 1000 AS customer_id,
       (i % 37) AS campaign_id,
       'user' || (i % 50000) || '@example.com' AS email,
       CASE WHEN i % 10 = 0 THEN NULL ELSE '+44 7700 ' || lpad((i % 900000)::text, 6, '0') END AS phone,
       (ARRAY['SENT', 'OPEN', 'CLICK', 'BOUNCE'])[1 + i % 4] AS event_type,
       (ARRAY['mobile', 'desktop', 'tablet'])[1 + i % 3] AS device,
       timestamp '2024-01-01' + (i % 500000) * interval '1 minute' AS event_ts,
       date '2024-01-01' + (i % 365) AS event_date,
       (i % 1000) / 10.0 AS amount,
       i % 2 = 0 AS opened,
       'CMP-' || (i % 37) AS campaign_code,
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'GB' END AS country,
       md5((i % 20000)::text) AS hash_text,
       (i % 5) AS score,
       to_char(date '2020-01-01' + (i % 2000), 'YYYY-MM-DD') AS signup_text,
       'segment ' || (i % 12) AS segment,
       i % 97 AS bucket,
       CASE WHEN i % 3 = 0 THEN 'Y' ELSE 'N' END AS opt_in,
       'https://acme.example/p/' || (i % 400) AS link_url
FROM generate_series(1, {ROWS}) AS i;
"""


def _admin():
    return sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")


def run() -> list[Result]:
    with scratch_app_database():
        return _run()


def _run() -> list[Result]:
    from catalog.services import sources as services
    from catalog.services.profiling import catalog_profile
    from tests.factories import EngagementFactory, UserFactory
    from workbench.choices import Role
    from workbench.models import Membership

    admin = _admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
    mart_url = f"{SERVER}/{DATABASE}"
    mart = sa.create_engine(mart_url)
    try:
        started = time.perf_counter()
        with mart.begin() as conn:
            conn.exec_driver_sql(BUILD_SCHEMA.replace("%", "%%"))
            conn.exec_driver_sql(BUILD_ROWS.replace("%", "%%"))
            conn.exec_driver_sql("ANALYZE wide.events")
        print(f"  built {TABLES} tables and {ROWS:,} rows in {time.perf_counter() - started:.1f} s")

        user = UserFactory(username=f"bench-{os.getpid()}")
        engagement = EngagementFactory(slug=f"bench-catalog-{os.getpid()}", created_by=user)
        Membership.objects.filter(engagement=engagement, user=user).update(role=Role.TECH_BA)

        def bare_inspector():
            with mart.connect() as conn:
                inspector = sa.inspect(conn)
                kind = ObjectKind.TABLE | ObjectKind.VIEW
                inspector.get_multi_columns(schema="bench", kind=kind)
                inspector.get_multi_pk_constraint(schema="bench", kind=kind)
                inspector.get_multi_foreign_keys(schema="bench", kind=kind)

        source = services.source_system_create(
            engagement=engagement,
            name="bench",
            url=mart_url,
            default_schema="bench",
            acting_user=user,
        )

        def read_catalog():
            tables = services.catalog_read(source=source, schema="bench")
            assert len(tables) == TABLES and sum(len(t.columns) for t in tables) == TABLES * COLUMNS

        runs = iter(range(100))
        sources = []

        def fresh_source():
            sources.append(
                services.source_system_create(
                    engagement=engagement,
                    name=f"bench {next(runs)}",
                    url=mart_url,
                    default_schema="bench",
                    acting_user=user,
                )
            )

        def introspect_and_store():
            result = services.catalog_introspect(source=sources[-1], acting_user=user)
            assert result["tables"] == TABLES and result["columns"] == TABLES * COLUMNS

        def reintrospect_unchanged():
            result = services.catalog_introspect(source=sources[-1], acting_user=user)
            assert not result["diff"]["changed"], result["diff"]["counts"]

        # the baseline is measured before and after; the lower median (the stricter one) is used
        baseline = timed(bare_inspector, repeat=5)
        reading = timed(read_catalog, repeat=5)
        storing = timed(introspect_and_store, repeat=3, setup=fresh_source)
        again = timed(reintrospect_unchanged, repeat=3)
        baseline = min(baseline, timed(bare_inspector, repeat=5))
        app_db = django_connections["default"].vendor
        results = [
            Result(
                name=f"read {TABLES} tables x {COLUMNS} columns (read-only transaction, "
                "columns, keys, uniques, indexes, comments, views)",
                seconds=reading,
                baseline_name="bare inspector multi calls (columns, pk, fk)",
                baseline_seconds=baseline,
                budget_ratio=1.5,
            ),
            Result(
                name=f"introspect = read + store the first catalog ({app_db} app database: "
                f"{TABLES} tables, {TABLES * COLUMNS:,} columns, {TABLES - 1} foreign keys, "
                "history rows)",
                seconds=storing,
                baseline_name="bare inspector multi calls",
                baseline_seconds=baseline,
                budget_ratio=1.5,
            ),
            Result(
                name="re-introspect with no change (read + compare; writes no catalog row)",
                seconds=again,
                baseline_name="bare inspector multi calls",
                baseline_seconds=baseline,
                budget_ratio=1.5,
            ),
        ]

        wide = services.source_system_create(
            engagement=engagement,
            name="wide",
            url=mart_url,
            default_schema="wide",
            acting_user=user,
        )
        services.catalog_introspect(source=wide, acting_user=user)
        column_names = [c for c in sa.inspect(mart).get_columns("events", schema="wide")]
        exprs = ["count(*)"]
        for col in column_names:
            name = f'"{col["name"]}"'
            exprs += [f"count({name})", f"count(DISTINCT {name})"]
            type_name = str(col["type"]).upper()
            if "BOOL" not in type_name:
                exprs += [f"min({name})", f"max({name})"]
            if "CHAR" in type_name or "TEXT" in type_name:
                exprs += [f"avg(length({name}))", f"max(length({name}))"]
        hand_written = f"SELECT {', '.join(exprs)} FROM wide.events"

        def aggregate_query():
            with mart.connect() as conn:
                conn.exec_driver_sql(hand_written).one()

        def profile():
            catalog_profile(source=wide, acting_user=user, sample_rows=ROWS)

        baseline = timed(aggregate_query, repeat=3)
        figure = timed(profile, repeat=3)
        results.append(
            Result(
                name=f"profile {ROWS:,} rows x 20 columns (all figures, top values, patterns)",
                seconds=figure,
                baseline_name="one hand-written aggregate query",
                baseline_seconds=baseline,
                budget_ratio=2.0,
            )
        )
        return results
    finally:
        mart.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def scratch_app_database():
    """Point Django at a fresh, migrated app database for the run and throw it away afterwards,
    so the benchmark never writes into (or has to clean up) the real one."""
    from django.core.management import call_command

    conn = django_connections["default"]
    original = dict(conn.settings_dict)
    sqlite = conn.vendor == "sqlite"
    name = (
        os.path.join(tempfile.mkdtemp(prefix="wb-bench-"), "app.sqlite3")
        if sqlite
        else f"wb_bench_app_{os.getpid()}"
    )
    conn.close()
    if not sqlite:
        with conn.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()
    conn.settings_dict["NAME"] = name
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        conn.close()
        conn.settings_dict.clear()
        conn.settings_dict.update(original)
        if sqlite:
            shutil.rmtree(os.path.dirname(name), ignore_errors=True)
        else:
            with conn.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.close()
