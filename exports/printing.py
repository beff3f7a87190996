"""Print setup and row sizing of the workbooks we write (the specification, the Unit Test Package).

Sizing rows for print: openpyxl writes no row heights of its own and LibreOffice does not grow a
row to its wrapped text when it opens a workbook (it honours the heights written), so a row whose
wrapped cells need more than one line gets an explicit height computed here from its text and the
widths of its columns.

Widths are in the workbook's width unit, the width of a digit of the default font; a character's
width is estimated in digits. The weights are on the wide side for Calibri and for the fonts that
stand in for it (Carlito, DejaVu Sans): a row a little too tall prints well, one too short overlaps
the next.
"""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.worksheet.properties import PageSetupProperties

LINE_POINTS = 14.0  # one line of 11-point text, leading included
PADDING_POINTS = 3.0
MAX_ROW_POINTS = 409.0  # the tallest row a workbook may hold
CELL_MARGIN = 1.2  # digits lost to the cell's left and right margins
BOLD = 1.1  # bold text is wider

_WEIGHTS = {
    **dict.fromkeys(" .,;:'!|ijl", 0.5),
    **dict.fromkeys("()[]{}frt", 0.7),
    **dict.fromkeys("ABCDEFGHIJKLNOPQRSTUVXYZ", 1.2),
    **dict.fromkeys("mwMW@%", 1.6),
}
_WIDEST = 1.6


def text_width(text: str) -> float:
    """The width of one line of text, in digits."""
    return sum(_WEIGHTS.get(char, 1.0) for char in text)


def line_count(text: object, width: float, *, bold: bool = False) -> int:
    """How many lines a wrapped cell of this column width shows its text on: each paragraph wraps
    at spaces, and a word longer than the line is broken inside."""
    room = max(width - CELL_MARGIN, 1.0) / (BOLD if bold else 1.0)
    lines = 0
    for paragraph in str(text).split("\n"):
        if len(paragraph) * _WIDEST <= room:
            lines += 1  # fits whatever its letters: most cells stop here
            continue
        lines += 1
        used = 0.0
        for word in paragraph.split(" "):
            needed = text_width(word)
            if used and used + 0.5 + needed <= room:
                used += 0.5 + needed
                continue
            if used:
                lines += 1
            while needed > room:
                lines += 1
                needed -= room
            used = needed
    return lines


def row_height(cells: Iterable[tuple[object, float]], *, bold: bool = False) -> float | None:
    """The height (points) of a row given its wrapped cells as (value, column width); None when
    every cell fits on one line, so the row keeps the default height."""
    lines = max(
        (line_count(value, width, bold=bold) for value, width in cells if value not in (None, "")),
        default=1,
    )
    if lines == 1:
        return None
    return min(lines * LINE_POINTS + PADDING_POINTS, MAX_ROW_POINTS)


def page_setup(ws, title: str, *, titles: str | None = "1:1") -> None:
    """Print on A4 landscape, every column on one page wide, the header row (`titles`) on every
    page, and a footer naming the sheet and the page."""
    if titles:
        ws.print_title_rows = titles
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.oddFooter.center.text = f"{title} — page &P of &N"
