"""Catalog speed (issues 4 and 18): the first store and the re-introspection of a Mart of 1,000
tables × 30 columns, through the service a user's introspection runs (`catalog_introspect`), each
interleaved with its floor: the bare SQLAlchemy inspector making the same reflection calls the store
makes (columns, primary keys, foreign keys, unique constraints, indexes, comments, view names; the
secondary ones on a second connection, as the store reads them) and nothing else. Both a PostgreSQL
Mart and a SQLite-file Mart. Then profiling of a 1,000,000-row × 20-column table against one
hand-written aggregate query.

Creates a scratch Mart database with set-based SQL (and a SQLite file) and drops them at the end;
the catalog rows go to a scratch app database that is thrown away afterwards."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import sqlalchemy as sa
from django.conf import settings
from django.db import connections as django_connections
from sqlalchemy.engine.reflection import ObjectKind

from bench.common import BareRows, Result, timed_pair
from workbench.jobs import JobError

SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = f"wb_bench_catalog_{os.getpid()}"
TABLES = 1000
COLUMNS = 30
ROWS = 1_000_000
REPEAT = 5
PROFILE_REPEAT = 3  # a pair of profiles takes ~20 s

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


def build_sqlite_mart(path: str) -> None:
    """The same 1,000 tables × 30 columns (keys, a foreign key each) in a SQLite file."""
    with sqlite3.connect(path) as db:
        for t in range(1, TABLES + 1):
            cols = ", ".join(f"c{c} {TYPES[c % len(TYPES)]}" for c in range(3, COLUMNS + 1))
            parent = f" REFERENCES t{t - 1} (id)" if t > 1 else ""
            db.execute(
                f"CREATE TABLE t{t} (id integer PRIMARY KEY, parent_id integer{parent}, {cols})"
            )


def reflect_like_the_store(engine: sa.Engine, schema: str | None) -> None:
    """The floor: the inspector calls the store makes, on the same two connections, and no more."""
    kind = ObjectKind.TABLE | ObjectKind.VIEW

    def optional(call):
        try:
            return call()
        except NotImplementedError:
            return None

    def secondary(conn):
        side = sa.inspect(conn)
        side.get_multi_unique_constraints(schema=schema, kind=kind)
        side.get_multi_indexes(schema=schema, kind=kind)
        optional(lambda: side.get_multi_table_comment(schema=schema, kind=kind))
        side.get_view_names(schema=schema)
        optional(lambda: side.get_materialized_view_names(schema=schema))

    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        if schema:
            inspector.get_schema_names()
        if engine.dialect.name != "postgresql":
            pending = None
        else:
            side_conn = engine.connect()
            pool = ThreadPoolExecutor(max_workers=1)
            pending = pool.submit(secondary, side_conn)
        inspector.get_multi_columns(schema=schema, kind=kind)
        inspector.get_multi_pk_constraint(schema=schema, kind=kind)
        inspector.get_multi_foreign_keys(schema=schema, kind=kind)
        if pending is None:
            secondary(conn)
        else:
            pending.result()
            pool.shutdown()
            side_conn.close()


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
    os.makedirs(settings.VAR_DIR, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="wb-bench-mart-", dir=settings.VAR_DIR)
    try:
        started = time.perf_counter()
        with mart.begin() as conn:
            conn.exec_driver_sql(BUILD_SCHEMA.replace("%", "%%"))
        sqlite_path = os.path.join(folder, "mart.sqlite3")
        build_sqlite_mart(sqlite_path)
        print(f"  built {TABLES} tables twice in {time.perf_counter() - started:.1f} s")

        user = UserFactory(username=f"bench-{os.getpid()}")
        engagement = EngagementFactory(slug=f"bench-catalog-{os.getpid()}", created_by=user)
        Membership.objects.filter(engagement=engagement, user=user).update(role=Role.TECH_BA)
        app_db = django_connections["default"].vendor
        names = iter(range(1000))

        def new_source(url: str, schema: str):
            return services.source_system_create(
                engagement=engagement,
                name=f"bench {next(names)}",
                url=url,
                default_schema=schema,
                acting_user=user,
            )

        results = []
        marts = [
            ("PostgreSQL", mart_url, mart, "bench"),
            (
                "SQLite",
                f"sqlite:///{sqlite_path}",
                sa.create_engine(f"sqlite:///{sqlite_path}"),
                "",
            ),
        ]
        for label, url, engine, schema in marts:
            results += _catalog_figures(
                services, label, app_db, engine, schema, user, new_source, url
            )
            engine.dispose()

        results.append(_profiling_figure(services, catalog_profile, engagement, user, mart_url))
        return results
    finally:
        mart.dispose()
        shutil.rmtree(folder, ignore_errors=True)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.dispose()


def _catalog_figures(services, label, app_db, engine, schema, user, new_source, url):
    def floor():
        reflect_like_the_store(engine, schema or None)

    stored = new_source(url, schema)
    sources = [stored]

    def read_catalog():
        tables = services.catalog_read(source=stored, schema=schema)
        assert len(tables) == TABLES and sum(len(t.columns) for t in tables) == TABLES * COLUMNS

    def fresh_source():
        sources.append(new_source(url, schema))

    def introspect_and_store():
        result = services.catalog_introspect(source=sources[-1], acting_user=user)
        assert result["tables"] == TABLES and result["columns"] == TABLES * COLUMNS
        assert result["diff"]["first"]

    def reintrospect_unchanged():
        result = services.catalog_introspect(source=stored, acting_user=user)
        assert not result["diff"]["changed"], result["diff"]["counts"]

    floor()  # warm both sides' caches alike
    # The app database holds a catalog already, as a workbench in use does: the very first
    # catalog a fresh database stores also gives its tables their first planner statistics.
    services.catalog_introspect(source=stored, acting_user=user)
    reading, reading_floor = timed_pair(read_catalog, floor, repeat=REPEAT)
    read_line = Result(
        name=f"{label} Mart: read {TABLES} tables x {COLUMNS} columns (read-only transaction, "
        "columns, keys, uniques, indexes, comments, views)",
        seconds=reading,
        baseline_name="bare inspector, the same calls",
        baseline_seconds=reading_floor,
        budget_ratio=1.5,
    )
    storing, storing_floor = timed_pair(
        introspect_and_store, floor, repeat=REPEAT, setup=fresh_source
    )
    store_line = Result(
        name=f"{label} Mart: introspect = read + store the first catalog ({app_db} app "
        f"database: {TABLES} tables, {TABLES * COLUMNS:,} columns, {TABLES - 1} foreign keys, "
        "history rows)",
        seconds=storing,
        baseline_name="bare inspector, the same calls",
        baseline_seconds=storing_floor,
        budget_ratio=1.5,
    )
    bare = _bare_catalog_rows(stored)

    def bare_write():
        bare.insert(sources[-1].pk, acting_user_id=user.pk)

    writing, writing_floor = timed_pair(bare_write, floor, repeat=REPEAT, setup=fresh_source)
    write_line = Result(
        name=f"(informative) {label} Mart: the same {bare.count:,} catalog rows written bare "
        f"({app_db} app database: COPY or executemany of tables, columns, foreign keys and their "
        "history rows, commit; no read, no suggestion index)",
        seconds=writing,
        baseline_name="bare inspector, the same calls",
        baseline_seconds=writing_floor,
    )
    again, again_floor = timed_pair(reintrospect_unchanged, floor, repeat=REPEAT)
    again_line = Result(
        name=f"{label} Mart: re-introspect with no change ({app_db} app database: read + "
        "compare; writes no catalog row)",
        seconds=again,
        baseline_name="bare inspector, the same calls",
        baseline_seconds=again_floor,
        budget_ratio=1.5,
    )
    return [read_line, store_line, write_line, again_line]


def _bare_catalog_rows(source) -> BareRows:
    """A source's stored catalog as rows to write bare under another source: what a first store
    writes, less the suggestion index."""
    from catalog.models import CatalogColumn, CatalogForeignKey, CatalogTable

    return BareRows(
        {"table": CatalogTable, "column": CatalogColumn, "foreign_key": CatalogForeignKey},
        {
            "table": {"source": source},
            "column": {"table__source": source},
            "foreign_key": {"table__source": source},
        },
        parent_column="source_id",
        references={"table_id": "table", "referred_table_id": "table"},
    )


def _profiling_figure(services, catalog_profile, engagement, user, mart_url) -> Result:
    mart = sa.create_engine(mart_url)
    try:
        started = time.perf_counter()
        with mart.begin() as conn:
            conn.exec_driver_sql(BUILD_ROWS.replace("%", "%%"))
            conn.exec_driver_sql("ANALYZE wide.events")
        print(f"  built {ROWS:,} rows in {time.perf_counter() - started:.1f} s")
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

        try:
            figure, baseline = timed_pair(profile, aggregate_query, repeat=PROFILE_REPEAT)
        except JobError as exc:  # a loaded machine can exceed the statement timeout: say so
            print(f"  profiling did not finish: {exc}")
            figure, baseline = float("inf"), 1.0
        return Result(
            name=f"profile {ROWS:,} rows x 20 columns (all figures, top values, patterns)",
            seconds=figure,
            baseline_name="one hand-written aggregate query",
            baseline_seconds=baseline,
            budget_ratio=2.0,
        )
    finally:
        mart.dispose()


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
