"""Reading a spreadsheet (.xlsx or .csv) attribute list, one row per attribute, into records."""

from __future__ import annotations

import csv
import io
from pathlib import PurePath

from ..choices import LogicalType, SourceFormat
from .data_types import logical_type_of, parse_physical_type
from .errors import ContractFileError
from .records import REFERENCE, ParsedAttribute, ParsedContract, ParsedEntity, ParsedRelationship

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

_YES = {"y", "yes", "true", "1", "x", "mandatory", "required"}
_NO = {"", "n", "no", "false", "0", "optional"}


class SpreadsheetReader:
    """One row per attribute, header exactly SPREADSHEET_HEADER (case and spacing forgiven)."""

    def __init__(self, file_name: str, fmt: str):
        self.file_name = file_name
        self.fmt = fmt
        self.sheet = ""

    def fail(self, row: int, column: int | None, message: str):
        place = f"sheet '{self.sheet}', " if self.sheet else ""
        place += f"row {row}"
        if column is not None:
            place += f", column {chr(ord('A') + column)} ({SPREADSHEET_HEADER[column]})"
        raise ContractFileError(self.file_name, place, message)

    def rows(self, content: bytes) -> list[list[str]]:
        if self.fmt == SourceFormat.CSV:
            try:
                text = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ContractFileError(self.file_name, "", "the file is not UTF-8 text.") from None
            sample = text[:4096]
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise ContractFileError(self.file_name, "", "not a readable .xlsx workbook.") from None
        sheet = book.worksheets[0]
        self.sheet = sheet.title
        rows = [
            ["" if cell is None else str(cell).strip() for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        book.close()
        return rows

    def read(self, content: bytes) -> ParsedContract:
        rows = self.rows(content)
        if not rows:
            raise ContractFileError(self.file_name, "", "the file is empty.")
        header = [c for c in rows[0]]
        while header and not header[-1]:
            header.pop()
        if [h.lower() for h in header] != [h.lower() for h in SPREADSHEET_HEADER]:
            self.fail(
                1,
                None,
                "wrong header; expected exactly: " + " | ".join(SPREADSHEET_HEADER) + ".",
            )
        stem = PurePath(self.file_name).stem
        contract = ParsedContract(
            name=stem, version="", contract_id=stem, description="", source_format=self.fmt
        )
        entities: dict[str, ParsedEntity] = {}
        pk_positions: dict[tuple[str, int], str] = {}
        for number, raw in enumerate(rows[1:], start=2):
            row = (raw + [""] * len(SPREADSHEET_HEADER))[: len(SPREADSHEET_HEADER)]
            if not any(row):
                continue
            entity_name, attr_name, data_type = row[0], row[1], row[2]
            for column, value in enumerate(row[:3]):
                if not value:
                    self.fail(number, column, "missing value.")
            entity = entities.get(entity_name)
            if entity is None:
                entity = ParsedEntity(
                    {
                        "name": entity_name,
                        "physical_name": "",
                        "business_name": "",
                        "description": "",
                        "grain": "",
                        "extra": {},
                    },
                    [],
                    f"row {number}",
                )
                entities[entity_name] = entity
                contract.entities.append(entity)
            if any(a.fields["name"] == attr_name for a in entity.attributes):
                self.fail(
                    number, 1, f"duplicate attribute '{attr_name}' in entity '{entity_name}'."
                )
            if data_type.lower() in LogicalType.values:
                logical_type, physical_type = data_type.lower(), ""
            else:
                logical_type, physical_type = logical_type_of(data_type), data_type
                if logical_type is None:
                    self.fail(
                        number,
                        2,
                        f"unknown data type '{data_type}'; use a logical type "
                        f"({', '.join(LogicalType.values)}) or a SQL type such as VARCHAR(100).",
                    )
            length, precision, scale = parse_physical_type(physical_type)
            primary_key, pk_position = self.key(row[4], number)
            if primary_key:
                if pk_position is None:
                    pk_position = 1 + sum(1 for a in entity.attributes if a.fields["primary_key"])
                if (entity_name, pk_position) in pk_positions:
                    self.fail(
                        number,
                        4,
                        f"primary key position {pk_position} is already taken by "
                        f"'{pk_positions[(entity_name, pk_position)]}'.",
                    )
                pk_positions[(entity_name, pk_position)] = attr_name
            allowed = row[6]
            separator = "|" if "|" in allowed else "\n" if "\n" in allowed else ","
            allowed_values = [v.strip() for v in allowed.split(separator) if v.strip()]
            entity.attributes.append(
                ParsedAttribute(
                    {
                        "name": attr_name,
                        "physical_name": "",
                        "business_name": "",
                        "description": row[9],
                        "logical_type": logical_type,
                        "physical_type": physical_type,
                        "length": length,
                        "precision": precision,
                        "scale": scale,
                        "required": self.yes_no(row[3], number, 3),
                        "unique": self.yes_no(row[5], number, 5),
                        "primary_key": primary_key,
                        "primary_key_position": pk_position,
                        "classification": "",
                        "examples": [],
                        "allowed_values": allowed_values,
                        "max_length": None,
                        "format": "",
                        "pattern": "",
                        "minimum": None,
                        "maximum": None,
                        "canonical_meaning": row[8],
                        "extra": {},
                    },
                    f"row {number}",
                )
            )
            if row[7]:
                match = REFERENCE.match(row[7])
                if not match:
                    self.fail(number, 7, f"expected 'entity.attribute', found '{row[7]}'.")
                contract.relationships.append(
                    ParsedRelationship(
                        entity_name,
                        attr_name,
                        match.group(1),
                        match.group(2),
                        False,
                        {},
                        self._place(number, 7),
                    )
                )
        if not contract.entities:
            self.fail(2, None, "no attribute rows under the header.")
        return contract

    def _place(self, row: int, column: int) -> str:
        place = f"sheet '{self.sheet}', " if self.sheet else ""
        return f"{place}row {row}, column {chr(ord('A') + column)} ({SPREADSHEET_HEADER[column]})"

    def yes_no(self, value: str, row: int, column: int) -> bool:
        if value.lower() in _YES:
            return True
        if value.lower() in _NO:
            return False
        self.fail(row, column, f"expected Y or N, found '{value}'.")
        return False

    def key(self, value: str, row: int) -> tuple[bool, int | None]:
        if value.isdigit() and int(value) >= 1:
            return True, int(value)
        return self.yes_no(value, row, 4), None
