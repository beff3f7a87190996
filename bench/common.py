"""What every benchmark reports, and how it measures.

Figures are wall-clock seconds, the median of runs interleaved with their floor (A B A B …), so
a machine whose load drifts weighs on both alike; each line carries the machine's load average at
the moment it was measured. Memory is the growth of a forked child's peak RSS over what it held
when it started, so the parent's own heap is never counted.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field


def keep_contract_file(*, layer_id: int, entities: int, attributes: int) -> None:
    """Keep beside a world's layer the file an import of a contract of this shape keeps
    (`InterfaceLayerFile`, 5.6 MB for 200 x 100), so a page that read it would pay for it here
    too."""
    from bench.bench_contracts import generated_contract
    from contracts.models import InterfaceLayerFile

    content = generated_contract(entities=entities, attributes=attributes).decode()
    InterfaceLayerFile.objects.create(layer_id=layer_id, content=content)


def machine_load() -> float:
    """The one-minute load average: what else the machine was doing while we measured."""
    return os.getloadavg()[0]


@dataclass
class Result:
    name: str
    seconds: float
    baseline_name: str
    baseline_seconds: float
    budget_ratio: float | None = None  # the largest acceptable figure/baseline
    budget_seconds: float | None = None  # or an absolute ceiling from the issue
    unit: str = "s"  # "MiB" for memory figures
    load: float = field(default_factory=machine_load)

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline_seconds if self.baseline_seconds else float("inf")

    @property
    def within_budget(self) -> bool:
        ratio_ok = self.budget_ratio is None or self.ratio <= self.budget_ratio
        seconds_ok = self.budget_seconds is None or self.seconds <= self.budget_seconds
        return ratio_ok and seconds_ok

    def line(self) -> str:
        budgets = []
        if self.budget_ratio is not None:
            budgets.append(f"{self.budget_ratio:g}x")
        if self.budget_seconds is not None:
            budgets.append(f"{self.budget_seconds:g} {self.unit}")
        verdict = "ok" if self.within_budget else "OVER BUDGET"
        return (
            f"{self.name}: {self.seconds:.3f} {self.unit} vs {self.baseline_name}: "
            f"{self.baseline_seconds:.3f} {self.unit} = {self.ratio:.2f}x "
            f"(budget {', '.join(budgets) or 'none'}; load {self.load:.2f}) {verdict}"
        )


def timed(
    fn: Callable[[], object], *, repeat: int = 3, setup: Callable[[], object] | None = None
) -> float:
    """Median wall-clock seconds of `fn` over `repeat` runs, calling `setup` before each."""
    samples = []
    for _ in range(repeat):
        if setup:
            setup()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def timed_pair(
    figure: Callable[[], object],
    baseline: Callable[[], object],
    *,
    repeat: int = 3,
    setup: Callable[[], object] | None = None,
) -> tuple[float, float]:
    """The median pair of `repeat` pairs of `figure` and `baseline` run alternately (A B A B …),
    `setup` before each: the pair whose ratio is the median of the pairs' ratios (the upper one
    of an even count). The two of a pair run moments apart, so a machine whose load drifts
    weighs on both alike; a pair, not two medians taken apart, keeps it so."""
    pairs: list[tuple[float, float]] = []
    for _ in range(repeat):
        pair = []
        for fn in (figure, baseline):
            if setup:
                setup()
            start = time.perf_counter()
            fn()
            pair.append(time.perf_counter() - start)
        pairs.append((pair[0], pair[1]))
    pairs.sort(key=lambda pair: pair[0] / pair[1] if pair[1] else float("inf"))
    return pairs[len(pairs) // 2]


@contextmanager
def scratch_database(name: str):
    """A fresh, migrated database of its own for one benchmark, dropped afterwards.

    Created through Django's test-database machinery next to the configured one: a SQLite file
    beside it, or a PostgreSQL database when DATABASE_URL points at PostgreSQL.
    """
    from django.db import connection

    test_name = f"{name}_{os.getpid()}"
    if connection.vendor == "sqlite":
        folder = os.path.dirname(connection.settings_dict["NAME"]) or "."
        test_name = os.path.join(folder, f"{test_name}.sqlite3")
    connection.settings_dict.setdefault("TEST", {})["NAME"] = test_name
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _status_kib(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def peak_memory_mib(fn: Callable[[], object]) -> float:
    """MiB by which `fn` raised the peak RSS of a forked child above what the child held at the
    start (Linux: the peak is reset through /proc/self/clear_refs). Database connections are
    closed first so parent and child never share a socket.

    The child inherits the parent's heap, and memory the parent freed is reused before new pages
    are touched: compare figures measured at the same point of a run (two scales of one world),
    or measure in a fresh process when the parent built large data first."""
    from django.db import connections

    def child(queue) -> None:
        connections.close_all()
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset VmHWM to the current RSS
        start = _status_kib("VmRSS")
        fn()
        connections.close_all()
        queue.put((_status_kib("VmHWM") - start) / 1024)

    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    while True:  # a child that fails never answers: stop waiting as soon as it is gone
        try:
            growth = queue.get(timeout=1)
            break
        except queue_module.Empty:
            if not process.is_alive():
                raise RuntimeError(
                    f"the measured child failed with exit code {process.exitcode}"
                ) from None
    process.join()
    return growth


class BareRows:
    """A floor for a bulk write: the rows of `models` (name → model) that `filters` (name →
    queryset filter) select, as the database stores them, written bare again on each call — COPY
    on PostgreSQL, one executemany on SQLite, per table, each with its history rows — under the
    parent `parent_column` names (its new id given to `insert`), the references between them
    (`references`: column → name of the model it points at) following the new keys. Runs in one
    transaction, as the write it is the floor of."""

    def __init__(self, models: dict, filters: dict, *, parent_column: str, references: dict):
        import json

        self.models = models
        self.parent_column = parent_column
        self.references = references
        self.columns: dict[str, list[str]] = {}
        self.rows: dict[str, list[list]] = {}
        self.ids: dict[str, list[int]] = {}
        for name, model in models.items():
            fields = [f for f in model._meta.concrete_fields if not f.primary_key]
            self.columns[name] = [f.column for f in fields]
            stored = list(
                model.objects.filter(**filters[name])
                .order_by("pk")
                .values_list("pk", *[f.attname for f in fields])
            )
            self.ids[name] = [row[0] for row in stored]
            json_columns = {i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"}
            self.rows[name] = [
                [
                    json.dumps(v) if i in json_columns and v is not None else v
                    for i, v in enumerate(row[1:])
                ]
                for row in stored
            ]

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def insert(self, parent_id: int, *, acting_user_id: int | None, before=None) -> None:
        """Write the rows under the parent `parent_id`; `before(cursor)` first, in the same
        transaction (another row the write keeps beside them)."""
        from django.db import connection, transaction
        from django.utils import timezone

        now = timezone.now()
        new_ids: dict[str, dict[int, int]] = {}  # per model, old key → new key
        with transaction.atomic(), connection.cursor() as cursor:
            if before is not None:
                before(cursor)
            for name, model in self.models.items():
                keys = _next_keys(cursor, model, len(self.rows[name]))
                new_ids[name] = dict(zip(self.ids[name], keys, strict=True))
                rows = [
                    [key, *self._remapped(name, row, parent_id, new_ids)]
                    for key, row in zip(keys, self.rows[name], strict=True)
                ]
                columns = ["id", *self.columns[name]]
                _bare_insert(cursor, model._meta.db_table, columns, rows)
                _bare_insert(
                    cursor,
                    model.history.model._meta.db_table,
                    [*columns, "history_date", "history_type", "history_user_id"],
                    [[*row, now, "+", acting_user_id] for row in rows],
                )

    def _remapped(
        self, name: str, row: list, parent_id: int, new_ids: dict[str, dict[int, int]]
    ) -> list:
        out = list(row)
        for i, column in enumerate(self.columns[name]):
            if column == self.parent_column:
                out[i] = parent_id
            elif column in self.references and out[i] is not None:
                out[i] = new_ids[self.references[column]][out[i]]
        return out


def _next_keys(cursor, model, count: int) -> list[int]:
    from django.db import connection

    table = model._meta.db_table
    if connection.vendor == "postgresql":
        # the sequence looked up once, as our bulk insert does: as nextval's argument it is
        # looked up again for every row
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count]
        )
        return [row[0] for row in cursor.fetchall()]
    cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
    start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def _bare_insert(cursor, table: str, columns: list[str], rows: list[list]) -> None:
    from django.db import connection

    names = ", ".join(f'"{c}"' for c in columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    else:
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({placeholders})', rows)
