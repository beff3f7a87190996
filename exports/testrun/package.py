"""The Unit Test Package: every test case of a run, as Excel (openpyxl) and Markdown.

Columns: Test Case ID | Test Case | Type of Testing | Description | Test SQL | Expected Result |
Actual Result | Status | Comments. The workbook prints on A4 landscape, all columns on one page
wide, the header row on every page.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..printing import page_setup, row_height
from .choices import FailureRoute, TestType
from .models import TestRun

HEADERS = [
    "Test Case ID",
    "Test Case",
    "Type of Testing",
    "Description",
    "Test SQL",
    "Expected Result",
    "Actual Result",
    "Status",
    "Comments",
]


# Column widths (characters), one per header; every column wraps.
WIDTHS = [24, 34, 16, 40, 62, 22, 22, 8, 40]
STATUS = HEADERS.index("Status")
NAVY = "12263F"
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
# Fonts name the workbook's default font: a font without a name prints in a serif in LibreOffice.
BOLD = Font(name="Calibri", bold=True)


def number_cases(results: Iterable[Any]) -> list[Any]:
    """Give each UnitTestResult, taken in run order, a `case_id`: UT-<entity>-<nnn>, numbered
    within its entity (typed Any: the model has no such field). The checks of a spec are built in
    a fixed order, so two runs of the same spec give a check the same ID, and a change to one
    entity renumbers only that entity's checks. A failed load is UT-<entity>-LOAD: it is there
    only when the load fails, and must not shift the numbers of the checks."""
    seen: Counter[str] = Counter()
    numbered = []
    for result in results:
        entity = result.entity_name
        if result.test_type == TestType.LOAD:
            result.case_id = f"UT-{entity}-LOAD"
        else:
            seen[entity] += 1
            result.case_id = f"UT-{entity}-{seen[entity]:03d}"
        numbered.append(result)
    return numbered


def _comments(result) -> str:
    parts = []
    if result.route:
        parts.append(FailureRoute(result.route).label)
    if result.comments:
        parts.append(result.comments)
    if result.sample_rows:
        parts.append(
            f"{len(result.sample_rows)} sample failing rows: "
            + "; ".join(json.dumps(row, ensure_ascii=False) for row in result.sample_rows[:5])
        )
    return " — ".join(parts)


def package_rows(run: TestRun) -> list[list[str]]:
    return [
        [
            result.case_id,
            result.name,
            TestType(result.test_type).label,
            result.description,
            result.sql,
            result.expected,
            result.actual,
            result.status_label,
            _comments(result),
        ]
        for result in number_cases(run.results.order_by("position"))
    ]


def package_xlsx(run: TestRun) -> bytes:
    book = Workbook()
    cover = book.active
    cover.title = "Cover"
    page_setup(cover, "Cover", titles=None)
    # The title alone on its row: it runs on into the empty cells beside it, never cut.
    cover.append([f"Unit Test Package — {run.engagement.name}"])
    cover["A1"].font = Font(name="Calibri", bold=True, size=14, color=NAVY)
    cover.row_dimensions[1].height = 24
    cover.append([])
    for row in (
        ["Test run", f"#{run.pk}"],
        ["Started", run.started_at.isoformat(timespec="seconds")],
        ["Source", run.source_url],
        ["Target", run.target_url],
        ["Content hash", run.content_hash],
        ["Result", run.summary],
    ):
        cover.append(row)
        cover.cell(cover.max_row, 1).font = BOLD
    cover.column_dimensions["A"].width = 16
    cover.column_dimensions["B"].width = 90

    sheet = book.create_sheet("Test Cases")
    page_setup(sheet, "Test Cases")
    sheet.print_options.gridLines = True
    for column, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(name="Calibri", bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=NAVY)
    _fit(sheet, HEADERS, bold=True)
    red = PatternFill("solid", fgColor="F8D7DA")
    for row in package_rows(run):
        sheet.append(row)
        if row[STATUS] == "Fail":
            for cell in sheet[sheet.max_row]:
                cell.fill = red
        _fit(sheet, row)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fit(sheet, row: list, *, bold: bool = False) -> None:
    """Wrap the last row's cells at the top and give it the height its text needs."""
    for cell in sheet[sheet.max_row]:
        cell.alignment = WRAP_TOP
    height = row_height(zip(row, WIDTHS, strict=True), bold=bold)
    if height:
        sheet.row_dimensions[sheet.max_row].height = height


def package_markdown(run: TestRun) -> str:
    out = [
        f"# Unit Test Package — {run.engagement.name}",
        "",
        f"Test run #{run.pk}, started {run.started_at.isoformat(timespec='seconds')}; "
        f"source `{run.source_url}`, target `{run.target_url}`.",
        "",
        f"**Result:** {run.summary}.",
        "",
    ]
    for row in package_rows(run):
        case_id, name, kind, description, sql_text, expected, actual, status, comments = row
        out += [
            f"## {case_id} — {name}",
            "",
            f"- **Type of testing:** {kind}",
            f"- **Description:** {description}",
            f"- **Expected result:** {expected}",
            f"- **Actual result:** {actual}",
            f"- **Status:** {status}",
            f"- **Comments:** {comments or '—'}",
            "",
            "```sql",
            sql_text.strip(),
            "```",
            "",
        ]
    return "\n".join(out)
