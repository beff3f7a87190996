"""Reading a contract file into records: ODCS v3 (YAML or JSON) or a spreadsheet (xlsx or csv).

Parsing writes nothing. Every refusal is a `ContractFileError` (a Django ValidationError) whose
message names the file and the place — a YAML path such as `schema[2].properties[4].logicalType`,
or `row 5, column C (Data Type)` — so the CLI, the API and the UI all show the same sentence.
The services turn the parsed contract into rows in one transaction.

One module per format (`odcs`, `spreadsheet`, with `fast_yaml` under `odcs`); all of them produce
the records of `records`. The names below are the public entry points.
"""

from __future__ import annotations

from pathlib import PurePath

from ..choices import SourceFormat
from .data_types import PHYSICAL_TO_LOGICAL, logical_type_of, parse_physical_type
from .errors import ContractFileError
from .odcs import (
    CANONICAL_MEANING,
    LOGICAL_TYPE_BOUNDS,
    LOGICAL_TYPE_OPTIONS,
    SUPPORTED_API_VERSIONS,
    OdcsReader,
    allowed_values_rules,
    canonical_meaning_properties,
    load_document,
    quality_as_written,
)
from .records import AttributeRecord, EntityRecord, ParsedContract, RelationshipRecord
from .spreadsheet import SPREADSHEET_HEADER, SpreadsheetReader

__all__ = [
    "CANONICAL_MEANING",
    "LOGICAL_TYPE_BOUNDS",
    "LOGICAL_TYPE_OPTIONS",
    "PHYSICAL_TO_LOGICAL",
    "SPREADSHEET_HEADER",
    "SUPPORTED_API_VERSIONS",
    "AttributeRecord",
    "ContractFileError",
    "EntityRecord",
    "OdcsReader",
    "ParsedContract",
    "RelationshipRecord",
    "SpreadsheetReader",
    "allowed_values_rules",
    "canonical_meaning_properties",
    "quality_as_written",
    "logical_type_of",
    "parse_contract",
    "parse_physical_type",
    "source_format_of",
]


def source_format_of(file_name: str) -> str:
    suffix = PurePath(file_name).suffix.lower()
    formats = {
        ".yaml": SourceFormat.ODCS_YAML,
        ".yml": SourceFormat.ODCS_YAML,
        ".json": SourceFormat.ODCS_JSON,
        ".xlsx": SourceFormat.XLSX,
        ".csv": SourceFormat.CSV,
    }
    if suffix not in formats:
        raise ContractFileError(
            file_name, "", "unsupported file type; expected .yaml, .yml, .json, .xlsx or .csv."
        )
    return formats[suffix]


def parse_contract(file_name: str, content: bytes) -> ParsedContract:
    """Parse `content` according to the file name's extension; raises ContractFileError."""
    fmt = source_format_of(file_name)
    if not content.strip():
        raise ContractFileError(file_name, "", "the file is empty.")
    if fmt in (SourceFormat.XLSX, SourceFormat.CSV):
        return SpreadsheetReader(file_name, fmt).read(content)
    document = load_document(file_name, content, fmt)
    return OdcsReader(file_name, fmt).read(document)
