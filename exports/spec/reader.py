"""Reading an edited Master Mapping Specification back (openpyxl, read-only).

The sheets are streamed: `open_spec` reads the Cover and hands out the Entities and Mapping rows
one at a time as the diff asks for them, so memory holds a row, not the workbook. The reader only
checks the workbook's shape and the type of each cell; what the values mean is
checked by the diff (exports.spec.diff) with the mapping services' own checks. Every problem names
the sheet, the row and the column, and the reader goes on to report all of them at once.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from xml.etree import ElementTree

from lxml import etree  # type: ignore[import-untyped]
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet import _reader as sheet_reader

from workbench.capping import capped
from workbench.uploads import UploadKind, max_sheet_rows, too_large_message, too_many_rows_message

from . import layout as L

MAX_ERRORS = 50


class _SheetParser(sheet_reader.WorkSheetParser):
    """openpyxl's parser of a sheet's rows and cells, reading the Entities and Mapping sheets
    faster and in less memory than a read-only worksheet's `iter_rows`:

    - libxml2 (lxml) reports the end of each row and nothing else, where openpyxl's iterparse
      hands every element of every cell to Python; each row read is taken out of the tree
      (openpyxl empties it but keeps it: 10 MiB at 100,000 rows);
    - a plain inline string (`<c t="inlineStr"><is><t>text</t></is></c>`, each text cell the
      export writes) is its text, where openpyxl builds a rich-text object per cell to get it;
    - no row's attributes are kept (openpyxl keeps every tall row's, which values never need).

    Every other cell (numbers, shared strings, formulas, rich text) is openpyxl's to read."""

    def rows(self) -> Iterator[tuple[int, list[dict]]]:
        """(row number, its cells as openpyxl gives them), in the sheet's order; XML or a value
        that cannot be read raises UnreadableSheet."""
        elements = _row_elements(self.source)
        while True:
            try:
                row = next(elements, None)
                if row is None:
                    return
                parsed = self.parse_row(row)
            except _UNREADABLE as exc:
                raise UnreadableSheet(str(exc)[:200] or type(exc).__name__) from None
            yield parsed

    def parse_row(self, row):
        parsed = super().parse_row(row)
        self.row_dimensions.clear()
        return parsed

    def parse_cell(self, element):
        if element.get("t") == "inlineStr" and len(element) == 1:
            inline = element[0]
            if inline.tag == sheet_reader.INLINE_STRING and len(inline) == 1:
                text = inline[0]
                if text.tag == _INLINE_TEXT_TAG:
                    return self._text_cell(element, text.text or "")
        return super().parse_cell(element)

    def _text_cell(self, element, value: str) -> dict:
        coordinate = element.get("r")
        if coordinate:
            row, column = coordinate_to_tuple(coordinate)
            self.col_counter = column
        else:
            self.col_counter += 1
            row, column = self.row_counter, self.col_counter
        style_id = element.get("s", 0)
        return {
            "row": row,
            "column": column,
            "value": value,
            "data_type": "s",
            "style_id": int(style_id) if style_id else 0,
        }


_INLINE_TEXT_TAG = sheet_reader.INLINE_STRING[: -len("is")] + "t"


def _row_elements(source) -> Iterator:
    """Each <row> element of a sheet's XML once complete, taken out of the tree once read: a read
    holds the row it is at (and what the parser has read ahead). Entities are not expanded and
    nothing is fetched."""
    for _event, row in etree.iterparse(
        source,
        events=("end",),
        tag=sheet_reader.ROW_TAG,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
    ):
        yield row
        parent = row.getparent()
        del parent[: parent.index(row) + 1]  # the row and anything before it, read and done


def _sheet_values(ws, width: int) -> Iterator[tuple]:
    """The values of a read-only sheet's rows, `width` of them a row, a missing row as empty
    ones: what `ws.iter_rows(max_col=width, values_only=True)` gives, read by `_SheetParser`
    (through the read-only sheet's source, strings and formats)."""
    book = ws.parent
    with ws._get_source() as source:
        parser = _SheetParser(
            source,
            ws._shared_strings,
            data_only=book.data_only,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        empty = (None,) * width
        expected = 1
        for number, cells in parser.rows():
            if number < expected:
                continue  # a row numbered back: openpyxl's read skips it too
            for _ in range(expected, number):
                yield empty
            values = [None] * width
            for cell in cells:
                column = cell["column"]
                if 1 <= column <= width:
                    values[column - 1] = cell["value"]
            yield tuple(values)
            expected = number + 1


# What a sheet whose XML is broken raises while it is read (by lxml here, by the standard library's
# parser in openpyxl; a row number or a number that is no number, a shared string that is not
# there): the sheet's problem, not the server's.
_BROKEN_XML = (etree.XMLSyntaxError, ElementTree.ParseError)
_UNREADABLE = (*_BROKEN_XML, ValueError, IndexError, KeyError, TypeError)


class UnreadableSheet(Exception):
    """A sheet's XML, or a value in it, cannot be read."""


class SpecReadError(Exception):
    """The workbook cannot be read; `errors` are the messages, each naming its place."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass
class SheetRow:
    sheet: str
    row: int  # the row number as Excel shows it
    values: dict[str, str | int | None]  # header -> value

    def place(self, column: str | None = None) -> str:
        if column is None:
            return f"Sheet {self.sheet}, row {self.row}"
        letter = get_column_letter(_header(self.sheet).index(column) + 1)
        return f"Sheet {self.sheet}, row {self.row}, column {letter} ({column})"


@dataclass
class ParsedSpec:
    cover: dict[str, str] = field(default_factory=dict)
    entities: Iterator[SheetRow] = field(default_factory=lambda: iter(()))
    mappings: Iterator[SheetRow] = field(default_factory=lambda: iter(()))
    # Problems found in the rows read so far: the whole list once both sheets are consumed.
    errors: list[str] = field(default_factory=list)

    def finish(self) -> None:
        """Read what the caller left unread (it stopped early) and raise the reading problems:
        they come before anything the rows mean."""
        for _row in self.entities:
            pass
        for _row in self.mappings:
            pass
        if self.errors:
            raise SpecReadError(capped(self.errors, limit=MAX_ERRORS, noun="problems"))


def _header(sheet: str) -> list[str]:
    return L.ENTITY_HEADER if sheet == L.ENTITIES else L.MAPPING_HEADER


@contextmanager
def open_spec(content: bytes) -> Iterator[ParsedSpec]:
    """The workbook's Cover, and its Entities and Mapping rows as iterators over the open file;
    raise SpecReadError when the file is no workbook or lacks a sheet. Call `finish()` after
    using the rows."""
    too_large = too_large_message(UploadKind.WORKBOOK, len(content))
    if too_large:
        raise SpecReadError([too_large])
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise SpecReadError(
            ["This file is not an Excel workbook (.xlsx): export the specification and edit that."]
        ) from None
    except _BROKEN_XML as exc:  # opening reads each sheet's dimensions from its XML
        raise SpecReadError([_unreadable("", exc)]) from None
    try:
        yield _open(workbook)
    finally:
        workbook.close()


def _open(workbook) -> ParsedSpec:
    names = workbook.sheetnames
    missing = [name for name in (L.COVER, L.ENTITIES, L.MAPPING) if name not in names]
    if missing:
        raise SpecReadError(
            [
                f"The sheet '{name}' is missing (the workbook has: {', '.join(names)}). "
                "Keep the sheet names of the exported specification."
                for name in missing
            ]
        )
    parsed = ParsedSpec()
    try:
        parsed.cover = _read_cover(workbook[L.COVER], parsed.errors)
    except _UNREADABLE as exc:
        raise SpecReadError([_unreadable(L.COVER, exc)]) from None
    parsed.entities = _read_rows(workbook[L.ENTITIES], L.ENTITIES, L.ENTITY_HEADER, parsed.errors)
    parsed.mappings = _read_rows(workbook[L.MAPPING], L.MAPPING, L.MAPPING_HEADER, parsed.errors)
    return parsed


def _read_cover(ws, errors: list[str]) -> dict[str, str]:
    cover: dict[str, str] = {}
    wanted = {L.COVER_SLUG, L.COVER_CONTRACT, L.COVER_CONTRACT_VERSION, L.COVER_HASH}
    for row in ws.iter_rows(min_row=1, max_row=40, max_col=2, values_only=True):
        if len(row) >= 2 and row[0] in wanted:
            cover[row[0]] = "" if row[1] is None else str(row[1])
    for label in (L.COVER_SLUG, L.COVER_CONTRACT, L.COVER_CONTRACT_VERSION):
        if label not in cover:
            errors.append(
                f"Sheet Cover: the '{label}' line is missing; the workbook cannot be matched to "
                "an engagement and contract version."
            )
    return cover


_NUMBER_COLUMNS = {"Row Version", "Load Order"}


def _unreadable(sheet: str, exc: Exception) -> str:
    which = f"Sheet {sheet}: the sheet" if sheet else "A sheet of this workbook"
    return (
        f"{which} cannot be read ({str(exc)[:200] or type(exc).__name__}). "
        "Export the specification again and edit that."
    )


def _read_rows(ws, sheet: str, header: list[str], errors: list[str]) -> Iterator[SheetRow]:
    try:
        yield from _rows_of(ws, sheet, header, errors)
    except UnreadableSheet as exc:
        errors.append(_unreadable(sheet, exc))


def _rows_of(ws, sheet: str, header: list[str], errors: list[str]) -> Iterator[SheetRow]:
    # Plain values (a formula reads as its text, "=..."); missing rows come as empty ones, so a
    # row's number is its position.
    rows = _sheet_values(ws, len(header) + 5)
    try:
        first = next(rows)
    except StopIteration:
        errors.append(f"Sheet {sheet}, row 1: the header row is missing.")
        return
    found = [_plain(value) for value in first]
    while found and found[-1] == "":
        found.pop()
    if found != header:
        for i, expected in enumerate(header):
            got = found[i] if i < len(found) else ""
            if got != expected:
                letter = get_column_letter(i + 1)
                errors.append(
                    f"Sheet {sheet}, row 1, column {letter}: the header must be '{expected}'"
                    + (f", not '{got}'." if got else " (missing).")
                    + " Keep the header row of the exported specification."
                )
                break
        else:
            extra = found[len(header)]
            errors.append(
                f"Sheet {sheet}, row 1, column {get_column_letter(len(header) + 1)}: unexpected "
                f"column '{extra}'. Keep the header row of the exported specification."
            )
        return
    limit = max_sheet_rows()
    for count, cells in enumerate(rows, start=1):
        if count > limit:
            errors.append(too_many_rows_message(sheet))
            return
        if not any(v not in (None, "") for v in cells[: len(header)]):
            continue  # an empty row
        number = count + 1
        # Most cells are text as typed, taken as they are; `_value` reads the others.
        values: dict[str, str | int | None] = {
            column: value
            if type(value) is str and value[:1] != "=" and column not in _NUMBER_COLUMNS
            else _value(value, number, sheet, column, header, errors)
            for column, value in zip(header, cells, strict=False)
        }
        if len(values) < len(header):
            for column in header:
                values.setdefault(column, None if column in _NUMBER_COLUMNS else "")
        yield SheetRow(sheet, number, values)


def _place(sheet, number, column, header) -> str:
    letter = get_column_letter(header.index(column) + 1)
    return f"Sheet {sheet}, row {number}, column {letter} ({column})"


def _value(value, row: int, sheet: str, column: str, header: list[str], errors: list[str]):
    if value is None:
        return None if column in _NUMBER_COLUMNS else ""
    if isinstance(value, str) and value.startswith("="):
        errors.append(
            f"{_place(sheet, row, column, header)}: formulas are not accepted; type the value."
        )
        return ""
    if column in _NUMBER_COLUMNS:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            errors.append(
                f"{_place(sheet, row, column, header)}: expected a whole number, got '{value}'."
            )
            return None
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is None or number != int(number) or number < 1:
            errors.append(
                f"{_place(sheet, row, column, header)}: expected a whole number, got '{value}'."
            )
            return None
        return int(number)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    errors.append(
        f"{_place(sheet, row, column, header)}: a value of type {type(value).__name__} is not "
        "accepted here; type text."
    )
    return ""


def _plain(value) -> str:
    return "" if value is None else str(value).strip()
