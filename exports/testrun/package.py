"""The Unit Test Package: every test case of a run, as Excel (openpyxl) and Markdown.

Columns: Test Case | Type of Testing | Description | Test SQL | Expected Result | Actual Result |
Status | Comments.
"""

from __future__ import annotations

import io
import json

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from .choices import FailureRoute, TestType
from .models import TestRun

HEADERS = [
    "Test Case",
    "Type of Testing",
    "Description",
    "Test SQL",
    "Expected Result",
    "Actual Result",
    "Status",
    "Comments",
]


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
            result.name,
            TestType(result.test_type).label,
            result.description,
            result.sql,
            result.expected,
            result.actual,
            result.status_label,
            _comments(result),
        ]
        for result in run.results.all()
    ]


def package_xlsx(run: TestRun) -> bytes:
    book = Workbook()
    cover = book.active
    cover.title = "Cover"
    for row in (
        ["Unit Test Package", run.engagement.name],
        ["Test run", f"#{run.pk}"],
        ["Started", run.started_at.isoformat(timespec="seconds")],
        ["Source", run.source_url],
        ["Target", run.target_url],
        ["Content hash", run.content_hash],
        ["Result", run.summary],
    ):
        cover.append(row)
    cover["A1"].font = Font(bold=True, size=14)
    sheet = book.create_sheet("Test Cases")
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    red = PatternFill("solid", fgColor="F8D7DA")
    for row in package_rows(run):
        sheet.append(row)
        if row[6] == "Fail":
            for cell in sheet[sheet.max_row]:
                cell.fill = red
    for column, width in zip("ABCDEFGH", (40, 22, 50, 70, 24, 24, 8, 50), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
    for n, row in enumerate(package_rows(run), start=1):
        name, kind, description, sql_text, expected, actual, status, comments = row
        out += [
            f"## {n}. {name}",
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
