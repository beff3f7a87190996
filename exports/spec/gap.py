"""The GAP document — the scope of work for the teams — as a standalone workbook."""

from __future__ import annotations

from openpyxl import Workbook

from mappings.selectors.gap import gap_counts, gap_items

from . import layout as L
from .workbook import SheetWriter, _gap


def write_gap(*, engagement, stream) -> int:
    """Write the GAP workbook (a GAP sheet and a Summary by severity); returns the item count."""
    items = gap_items(engagement=engagement)
    workbook = Workbook(write_only=True)
    _gap(workbook, items)
    # the GAP workbook's Summary counts items by severity: its own columns, not the spec's
    summary = SheetWriter(
        workbook, L.SUMMARY, ["Severity", "Category", "Items"], widths=[12, 44, 10]
    )
    for row in gap_counts(items):
        summary.append([row["severity"].capitalize(), row["category"], row["count"]])
    summary.finish()
    workbook.save(stream)
    return len(items)
