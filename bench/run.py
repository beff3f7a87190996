"""Run every benchmark in bench/ and print each figure beside its baseline, as a ratio.

A benchmark is a module `bench/bench_<name>.py` with `run() -> list[Result]`. Each Result carries
the measured figure, the baseline measured in the same run, and the budget (the largest ratio
allowed). `make bench` runs every module once on the embedded SQLite and once on PostgreSQL
(`DATABASE_URL`), and exits non-zero when a ratio is over its budget. Pass names to run a subset:
`python bench/run.py contracts`.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench.common import Result, machine_load  # noqa: E402


def ensure_app_database() -> None:
    """On PostgreSQL the benchmarks make their scratch databases beside the app's: create the
    app's database first when the server does not have it yet."""
    if connection.vendor != "postgresql":
        return
    import psycopg
    from psycopg import sql

    settings = connection.settings_dict
    server = {"host": settings["HOST"] or None, "port": settings["PORT"] or None}
    with psycopg.connect(
        dbname="postgres",
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        autocommit=True,
        **server,
    ) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]
        ).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"])))


def main(names: list[str]) -> int:
    ensure_app_database()
    modules = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    if names:
        modules = [m for m in modules if m.removeprefix("bench_") in names]
    results: list[Result] = []
    print(
        f"# app database: {connection.vendor}; {os.cpu_count()} cores; "
        f"load at start {machine_load():.2f}",
        flush=True,
    )
    for name in modules:
        print(f"== {name}", flush=True)
        for result in importlib.import_module(f"bench.{name}").run():
            print(result.line(), flush=True)
            results.append(result)
    over = [r for r in results if not r.within_budget]
    print(f"{len(results)} figures on {connection.vendor}, {len(over)} over budget")
    for result in over:
        print(f"  over budget: {result.name.strip()}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
