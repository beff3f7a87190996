"""What every benchmark reports, and a timer. Figures are wall-clock seconds, median of runs."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Result:
    name: str
    seconds: float
    baseline_name: str
    baseline_seconds: float
    budget_ratio: float | None = None  # the largest acceptable figure/baseline
    budget_seconds: float | None = None  # or an absolute ceiling from the issue

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
            budgets.append(f"{self.budget_seconds:g} s")
        verdict = "ok" if self.within_budget else "OVER BUDGET"
        return (
            f"{self.name}: {self.seconds:.3f} s vs {self.baseline_name}: "
            f"{self.baseline_seconds:.3f} s = {self.ratio:.2f}x "
            f"(budget {', '.join(budgets) or 'none'}) {verdict}"
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
    """Medians of `figure` and `baseline` run alternately (A B A B …), `setup` before each, so a
    machine whose load drifts weighs on both alike."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((figure, samples[0]), (baseline, samples[1])):
            if setup:
                setup()
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(samples[0]), statistics.median(samples[1])


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
