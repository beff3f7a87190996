"""The GAP document — the scope of work for the teams — as a standalone workbook."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

from mappings.selectors.gap import GapItem, gap_counts_of, gap_stream

from . import layout as L
from .workbook import SheetWriter, _gap


def write_gap(*, engagement, stream) -> int:
    """Write the GAP workbook (a GAP sheet and a Summary by severity); returns the item count.
    The items are written as they come (gap_stream), counted on the way for the Summary."""
    counts: Counter[tuple[str, str]] = Counter()

    def counted(items: Iterable[GapItem]) -> Iterator[GapItem]:
        for item in items:
            counts[item.severity, item.category] += 1
            yield item

    workbook = Workbook(write_only=True)
    _gap(workbook, counted(gap_stream(engagement=engagement)))
    # the GAP workbook's Summary counts items by severity: its own columns, not the spec's
    summary = SheetWriter(
        workbook, L.SUMMARY, ["Severity", "Category", "Items"], widths=[12, 44, 10]
    )
    for row in gap_counts_of(counts):
        summary.append([row["severity"].capitalize(), row["category"], row["count"]])
    summary.finish()
    workbook.save(stream)
    return counts.total()
