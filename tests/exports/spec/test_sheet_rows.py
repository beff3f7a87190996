"""The specification's sheets write their rows' XML themselves (openpyxl's per-cell path was most
of an export's time): whatever a BA typed, the sheet holds exactly what openpyxl would have
written for the same styled cells, and reads back as the values given."""

from __future__ import annotations

import io
import re
import zipfile
from copy import copy
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.cell.cell import Cell

from exports.printing import row_height
from exports.spec import layout as L
from exports.spec.workbook import HEADER_FILL, HEADER_FONT, TOP_WRAP, SheetWriter

# Awkward text a person types: markup characters, a carriage return, spaces kept at either end,
# an error code and a "formula" that is only text, control characters no workbook holds,
# non-Latin letters, a text too long for a cell, and values that are not text.
ROWS = [
    ["<b>&amp; \"quoted\" 'single'", " leading", "trailing ", "line\r\nbreak\ttab", 1],
    ["#N/A", "=SUM(A1:A2)", "=", "bell\x07 and form\x0c feed", 2],
    ["Ünïcödé → 360° 😀", "", None, "x" * 40_000, 10**17],
    [datetime(2026, 12, 3, 14, 5), 2.5, Decimal("3.25"), True, 0],
]
HEADER = ["When", "Two", "Three", "Notes", "Row Version"]  # a date column, a wrapped one


def sheet_data(content: bytes, index: int) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read(f"xl/worksheets/sheet{index}.xml")
    return re.search(rb"<sheetData>.*</sheetData>", xml, re.S).group(0)


def saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_sheets_rows_are_the_xml_openpyxl_writes_for_the_same_cells():
    workbook = Workbook(write_only=True)
    sheet = SheetWriter(workbook, L.MAPPING, HEADER, widths=[10, 10, 10, 12, 10])
    for values in ROWS:
        sheet.append(values)
    sheet.finish()

    # The same rows through openpyxl's own path: a styled cell per value, the height set alike.
    reference = workbook.create_sheet("Reference")
    reference._values_to_row = lambda cells, _row: [c for c in cells if c is not None]
    for column, width in enumerate([10, 10, 10, 12, 10], start=1):
        reference.column_dimensions[openpyxl.utils.get_column_letter(column)].width = width
    head = []
    for column, name in enumerate(HEADER, start=1):
        cell = Cell(reference, row=1, column=column, value=name)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, TOP_WRAP
        head.append(cell)
    reference.row_dimensions[1].height = row_height(
        zip(HEADER, [10, 10, 10, 12, 10], strict=True), bold=True
    )
    reference.append(head)
    for number, values in enumerate(ROWS, start=2):
        cells = []
        for column, (value, styled) in enumerate(zip(values, sheet.cells, strict=True), start=1):
            if value is None or value == "":
                cells.append(None)
                continue
            cell = Cell(reference, row=number, column=column)
            cell._style = copy(styled._style)
            try:
                cell.value = value
            except openpyxl.utils.exceptions.IllegalCharacterError:
                cell.value = re.sub(r"[\000-\010\013\014\016-\037]", "", value)
            if cell.data_type == "f":
                cell.data_type = "s"
            cells.append(cell)
        notes = cells[3].value if cells[3] is not None else None
        height = row_height([(notes, 12)]) if isinstance(notes, str) else None
        if height:
            reference.row_dimensions[number].height = height
        reference.append(cells)
    content = saved(workbook)

    assert sheet_data(content, 1) == sheet_data(content, 2)
    read = openpyxl.load_workbook(io.BytesIO(content))["Mapping"]
    rows = list(read.iter_rows(min_row=2, values_only=True))
    assert rows[0][:4] == (
        "<b>&amp; \"quoted\" 'single'",
        " leading",
        "trailing ",
        "line\r\nbreak\ttab",
    )
    assert rows[1][:4] == ("#N/A", "=SUM(A1:A2)", "=", "bell and form feed")
    assert rows[2][0] == "Ünïcödé → 360° 😀" and rows[2][1:3] == (None, None)
    assert len(rows[2][3]) == 32_767 and rows[2][4] == 10**17
    assert rows[3] == (datetime(2026, 12, 3, 14, 5), 2.5, 3.25, True, 0)


def test_a_row_of_the_wrong_length_is_refused():
    sheet = SheetWriter(Workbook(write_only=True), L.GLOSSARY, L.GLOSSARY_HEADER)

    with pytest.raises(ValueError, match="2 values for 3 columns"):
        sheet.append(["term", "definition"])
    sheet.append(["term", "definition", ""])
    sheet.ws.close()


def test_a_read_only_read_yields_every_row_and_lets_each_go_once_read():
    """openpyxl's sheet parser empties each row it read but left it in the tree (10 MiB at 100,000
    rows), and kept the attributes of every tall row: the reader's iterparse takes the row out
    (the same rows and events, an empty <sheetData>) and its read-only parser keeps no row
    attributes."""
    from xml.etree.ElementTree import iterparse

    from exports.spec import reader

    workbook = Workbook(write_only=True)
    sheet = SheetWriter(workbook, L.MAPPING, HEADER, widths=[10, 10, 10, 12, 10])
    for row in ROWS * 50:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    xml = zipfile.ZipFile(buffer).read("xl/worksheets/sheet1.xml")

    plain = [(event, element.tag) for event, element in iterparse(io.BytesIO(xml))]
    seen, sheet_data = [], None
    for event, element in reader._iterparse_letting_rows_go(io.BytesIO(xml)):
        seen.append((event, element.tag))
        if element.tag.endswith("}sheetData"):
            sheet_data = element
    assert seen == plain
    assert sheet_data is not None and len(sheet_data) == 0  # 201 rows read, none kept

    from openpyxl.worksheet import _read_only, _reader

    assert _reader.iterparse is reader._iterparse_letting_rows_go  # what openpyxl's reads use
    # Nor does a read-only read keep each tall row's attributes, as openpyxl's parser does.
    assert _read_only.WorkSheetParser is reader._ReadOnlySheetParser
    kept = _reader.WorkSheetParser(io.BytesIO(xml), [])
    assert len(list(kept.parse())) == len(ROWS) * 50 + 1 and len(kept.row_dimensions) >= 50
    forgotten = reader._ReadOnlySheetParser(io.BytesIO(xml), [])
    assert len(list(forgotten.parse())) == len(ROWS) * 50 + 1 and not forgotten.row_dimensions
    read = openpyxl.load_workbook(buffer, read_only=True)
    values = list(read[L.MAPPING].iter_rows(min_row=2, values_only=True))
    assert len(values) == len(ROWS) * 50
    assert values[0][0] == ROWS[0][0] and values[-1][-1] == ROWS[-1][-1]
