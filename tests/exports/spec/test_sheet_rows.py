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


def test_the_import_reads_a_sheets_values_as_openpyxl_does_holding_one_row_at_a_time():
    """The import's sheet reader (lxml reporting whole rows, a plain inline string taken as its
    text) gives exactly the values of openpyxl's own read-only read, every awkward one included;
    each row read is taken out of the tree, and no row's attributes are kept (openpyxl keeps its
    emptied rows, 10 MiB at 100,000, and the attributes of every tall one)."""
    from exports.spec import reader

    workbook = Workbook(write_only=True)
    sheet = SheetWriter(workbook, L.MAPPING, HEADER, widths=[10, 10, 10, 12, 10])
    for row in ROWS * 50:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    xml = zipfile.ZipFile(buffer).read("xl/worksheets/sheet1.xml")

    read = openpyxl.load_workbook(buffer, read_only=True)
    width = len(HEADER) + 2  # wider than the sheet: the reader pads as iter_rows does
    ours = list(reader._sheet_values(read[L.MAPPING], width))
    assert ours == list(read[L.MAPPING].iter_rows(max_col=width, values_only=True))
    assert len(ours) == len(ROWS) * 50 + 1 and ours[1][:4] == tuple(ROWS[0][:4])

    # each row comes with no row before it left in the tree (after it, at most what the parser
    # has read ahead)
    earlier = [row.getprevious() for row in reader._row_elements(io.BytesIO(xml))]
    assert earlier == [None] * (len(ROWS) * 50 + 1)
    parser = reader._SheetParser(io.BytesIO(xml), [])
    assert len(list(parser.rows())) == len(ROWS) * 50 + 1 and not parser.row_dimensions


def test_a_sheet_with_gaps_rich_text_and_shared_strings_reads_as_openpyxl_reads_it():
    """Cells the export never writes but Excel does: shared strings, rich inline text, a formula,
    a missing row and cells out of reach; each reads as openpyxl reads it."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    from exports.spec import reader

    workbook = Workbook()
    ws = workbook.active
    ws.title = L.MAPPING
    ws["A1"], ws["B1"] = "party", 7
    ws["A3"] = CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold")])
    ws["B3"], ws["D3"] = "=SUM(B1:B2)", 2.5
    ws["H3"] = "beyond the columns read"
    content = saved(workbook)

    read = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    assert list(reader._sheet_values(read[L.MAPPING], 4)) == [
        ("party", 7, None, None),
        (None, None, None, None),
        ("plain bold", "=SUM(B1:B2)", None, 2.5),
    ]
    assert list(reader._sheet_values(read[L.MAPPING], 4)) == list(
        read[L.MAPPING].iter_rows(max_col=4, values_only=True)
    )


@pytest.mark.parametrize("rows", [0, 1, 150])
def test_a_written_sheet_says_its_size_so_opening_the_workbook_reads_no_sheet_through(rows):
    # Given a sheet written row by row, whose size is known only at its end
    workbook = Workbook(write_only=True)
    sheet = SheetWriter(workbook, L.MAPPING, HEADER, widths=[10, 10, 10, 12, 10])
    for row in (ROWS * 50)[:rows]:
        sheet.append(row)
    sheet.finish()
    content = saved(workbook)

    # When the workbook is opened read-only, as the import and a BA's script open it
    read = openpyxl.load_workbook(io.BytesIO(content), read_only=True)[L.MAPPING]

    # Then the sheet's size comes from its <dimension> (openpyxl refuses to guess one it lacks)
    # and is exactly the range its rows fill, as a full read finds it
    assert read.calculate_dimension() == f"A1:E{rows + 1}"
    full = openpyxl.load_workbook(io.BytesIO(content))[L.MAPPING]
    assert (full.max_row, full.max_column) == (rows + 1, 5)
    # And the XML around it is well formed: the size sits where the room was kept for it
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert re.search(rb'<dimension ref="A1:E%d" */>' % (rows + 1), xml)
