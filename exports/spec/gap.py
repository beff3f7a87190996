"""The GAP document — the scope of work for the teams — as a standalone workbook."""

from __future__ import annotations

from openpyxl import Workbook

from mappings.selectors.gap import SEVERITY_ORDER, gap_items

from . import layout as L
from .workbook import SheetWriter, _gap


def gap_counts(items) -> list[dict]:
    """Items per category and severity, most severe first."""
    counts: dict[tuple[str, str], int] = {}
    for item in items:
        counts[(item.severity, item.category)] = counts.get((item.severity, item.category), 0) + 1
    return [
        {"severity": severity, "category": category, "count": count}
        for (severity, category), count in sorted(
            counts.items(), key=lambda kv: (SEVERITY_ORDER[kv[0][0]], -kv[1], kv[0][1])
        )
    ]


def write_gap(*, engagement, stream) -> int:
    """Write the GAP workbook (a GAP sheet and a Summary by severity); returns the item count."""
    items = gap_items(engagement=engagement)
    workbook = Workbook(write_only=True)
    _gap(workbook, items)
    summary = SheetWriter(workbook, L.SUMMARY, ["Severity", "Category", "Items"])
    for row in gap_counts(items):
        summary.append([row["severity"].capitalize(), row["category"], row["count"]])
    summary.finish()
    workbook.save(stream)
    return len(items)
