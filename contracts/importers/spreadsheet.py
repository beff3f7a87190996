"""Reading a spreadsheet (.xlsx or .csv) attribute list, one row per attribute, into records."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from enum import IntEnum
from pathlib import PurePath
from typing import Any, NoReturn

from workbench.uploads import max_sheet_rows, too_many_rows_message

from ..choices import SourceFormat
from .data_types import LOGICAL_TYPES, logical_type_of, parse_physical_type
from .errors import ContractFileError
from .records import (
    AttributeRecord,
    EntityRecord,
    ParsedContract,
    RelationshipRecord,
    split_reference,
)

SPREADSHEET_HEADER = [
    "Entity",
    "Attribute",
    "Data Type",
    "Required",
    "Primary Key",
    "Unique",
    "Allowed Values",
    "References",
    "Canonical Meaning",
    "Description",
]


class Column(IntEnum):
    """Position of each SPREADSHEET_HEADER column (0 is column A)."""

    ENTITY = 0
    ATTRIBUTE = 1
    DATA_TYPE = 2
    REQUIRED = 3
    PRIMARY_KEY = 4
    UNIQUE = 5
    ALLOWED_VALUES = 6
    REFERENCES = 7
    CANONICAL_MEANING = 8
    DESCRIPTION = 9


_YES = {"y", "yes", "true", "1", "x", "mandatory", "required"}
_NO = {"", "n", "no", "false", "0", "optional"}

Row = list[str]


class SpreadsheetReader:
    """One row per attribute, header exactly SPREADSHEET_HEADER (case and spacing forgiven)."""

    def __init__(self, file_name: str, fmt: str) -> None:
        self.file_name = file_name
        self.fmt = fmt
        self.sheet = ""
        # (entity, position) → the attribute holding that primary key position.
        self.pk_positions: dict[tuple[str, int], str] = {}

    def place(self, row: int, column: int | None = None) -> str:
        place = f"sheet '{self.sheet}', " if self.sheet else ""
        place += f"row {row}"
        if column is not None:
            place += f", column {chr(ord('A') + column)} ({SPREADSHEET_HEADER[column]})"
        return place

    def fail(self, row: int, column: int | None, message: str) -> NoReturn:
        raise ContractFileError(self.file_name, self.place(row, column), message)

    def rows(self, content: bytes) -> list[Row]:
        if self.fmt == SourceFormat.CSV:
            return self.csv_rows(content)
        return self.xlsx_rows(content)

    def csv_rows(self, content: bytes) -> list[Row]:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ContractFileError(self.file_name, "", "the file is not UTF-8 text.") from None
        sample = text[:4096]
        dialect: type[csv.Dialect] | csv.Dialect
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = csv.reader(io.StringIO(text), dialect)
        return [[c.strip() for c in row] for row in self.within_limit(rows, self.file_name)]

    def xlsx_rows(self, content: bytes) -> list[Row]:
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise ContractFileError(self.file_name, "", "not a readable .xlsx workbook.") from None
        sheet = book.worksheets[0]
        self.sheet = sheet.title
        try:
            return [
                ["" if cell is None else str(cell).strip() for cell in row]
                for row in self.within_limit(sheet.iter_rows(values_only=True), sheet.title)
            ]
        finally:
            book.close()

    def within_limit(self, rows: Iterable[Sequence[Any]], sheet: str) -> Iterator[Sequence[Any]]:
        """The rows, refusing the file past the row limit (a header plus WORKBENCH_MAX_SHEET_ROWS)."""
        for count, row in enumerate(rows):
            if count > max_sheet_rows():
                raise ContractFileError(self.file_name, "", too_many_rows_message(sheet))
            yield row

    def read(self, content: bytes) -> ParsedContract:
        rows = self.rows(content)
        if not rows:
            raise ContractFileError(self.file_name, "", "the file is empty.")
        self.check_header(rows[0])
        self.pk_positions = {}
        attributes: dict[str, list[AttributeRecord]] = {}  # by entity, in order of appearance
        first_rows: dict[str, int] = {}
        relationships: list[RelationshipRecord] = []
        for number, raw in enumerate(rows[1:], start=2):
            row = (raw + [""] * len(SPREADSHEET_HEADER))[: len(SPREADSHEET_HEADER)]
            if not any(row):
                continue
            for column, value in enumerate(row[: Column.DATA_TYPE + 1]):
                if not value:
                    self.fail(number, column, "missing value.")
            siblings = attributes.setdefault(row[Column.ENTITY], [])
            first_rows.setdefault(row[Column.ENTITY], number)
            siblings.append(self.read_attribute(row, number, siblings))
            if row[Column.REFERENCES]:
                relationships.append(self.read_reference(row, number))
        if not attributes:
            self.fail(2, None, "no attribute rows under the header.")
        stem = PurePath(self.file_name).stem
        return ParsedContract(
            name=stem,
            version="",
            contract_id=stem,
            description="",
            source_format=self.fmt,
            entities=tuple(
                EntityRecord(name=name, attributes=tuple(records), place=f"row {first_rows[name]}")
                for name, records in attributes.items()
            ),
            relationships=tuple(relationships),
        )

    def check_header(self, first_row: Row) -> None:
        header = list(first_row)
        while header and not header[-1]:
            header.pop()
        if [h.lower() for h in header] != [h.lower() for h in SPREADSHEET_HEADER]:
            self.fail(
                1,
                None,
                "wrong header; expected exactly: " + " | ".join(SPREADSHEET_HEADER) + ".",
            )

    def read_attribute(
        self, row: Row, number: int, siblings: list[AttributeRecord]
    ) -> AttributeRecord:
        """The attribute of one row; `siblings` are those read before it in the same entity."""
        # Checked in this order (name, data type, key, required, unique): the first problem of a
        # row is the one named.
        entity_name, name = row[Column.ENTITY], row[Column.ATTRIBUTE]
        if any(a.name == name for a in siblings):
            self.fail(
                number, Column.ATTRIBUTE, f"duplicate attribute '{name}' in entity '{entity_name}'."
            )
        logical_type, physical_type = self.data_type(row[Column.DATA_TYPE], number)
        length, precision, scale = parse_physical_type(physical_type)
        primary_key, pk_position = self.primary_key(row, number, siblings)
        required = self.yes_no(row[Column.REQUIRED], number, Column.REQUIRED)
        unique = self.yes_no(row[Column.UNIQUE], number, Column.UNIQUE)
        return AttributeRecord(
            name=name,
            description=row[Column.DESCRIPTION],
            logical_type=logical_type,
            physical_type=physical_type,
            length=length,
            precision=precision,
            scale=scale,
            required=required,
            unique=unique,
            primary_key=primary_key,
            primary_key_position=pk_position,
            allowed_values=_split_allowed_values(row[Column.ALLOWED_VALUES]),
            canonical_meaning=row[Column.CANONICAL_MEANING],
            place=f"row {number}",
        )

    def data_type(self, data_type: str, number: int) -> tuple[str, str]:
        """(logical type, physical type) of a Data Type cell: a logical type or a SQL type."""
        if data_type.lower() in LOGICAL_TYPES:
            return data_type.lower(), ""
        logical_type = logical_type_of(data_type)
        if logical_type is None:
            self.fail(
                number,
                Column.DATA_TYPE,
                f"unknown data type '{data_type}'; use a logical type "
                f"({', '.join(LOGICAL_TYPES)}) or a SQL type such as VARCHAR(100).",
            )
        return logical_type, data_type

    def primary_key(
        self, row: Row, number: int, siblings: list[AttributeRecord]
    ) -> tuple[bool, int | None]:
        """Y/N or a position; a bare Y takes the next position in the entity."""
        primary_key, position = self.key(row[Column.PRIMARY_KEY], number)
        if not primary_key:
            return False, None
        if position is None:
            position = 1 + sum(1 for a in siblings if a.primary_key)
        taken = (row[Column.ENTITY], position)
        if taken in self.pk_positions:
            self.fail(
                number,
                Column.PRIMARY_KEY,
                f"primary key position {position} is already taken by "
                f"'{self.pk_positions[taken]}'.",
            )
        self.pk_positions[taken] = row[Column.ATTRIBUTE]
        return True, position

    def read_reference(self, row: Row, number: int) -> RelationshipRecord:
        reference = split_reference(row[Column.REFERENCES])
        if reference is None:
            self.fail(
                number,
                Column.REFERENCES,
                f"expected 'entity.attribute', found '{row[Column.REFERENCES]}'.",
            )
        to_entity, to_attribute = reference
        return RelationshipRecord(
            from_entity=row[Column.ENTITY],
            from_attribute=row[Column.ATTRIBUTE],
            to_entity=to_entity,
            to_attribute=to_attribute,
            place=self.place(number, Column.REFERENCES),
        )

    def yes_no(self, value: str, row: int, column: int) -> bool:
        if value.lower() in _YES:
            return True
        if value.lower() in _NO:
            return False
        self.fail(row, column, f"expected Y or N, found '{value}'.")

    def key(self, value: str, row: int) -> tuple[bool, int | None]:
        if value.isdigit() and int(value) >= 1:
            return True, int(value)
        return self.yes_no(value, row, Column.PRIMARY_KEY), None


def _split_allowed_values(cell: str) -> list[str]:
    """Values separated by |, by new lines, or else by commas."""
    separator = "|" if "|" in cell else "\n" if "\n" in cell else ","
    return [v.strip() for v in cell.split(separator) if v.strip()]
