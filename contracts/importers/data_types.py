"""Physical (SQL) type names: the logical type each stands for, and the size written with it."""

from __future__ import annotations

import re
from functools import lru_cache

from ..choices import LogicalType

# The logical type names, once: `LogicalType.values` builds a new list at every access, and the
# parsers ask for every attribute.
LOGICAL_TYPES: tuple[str, ...] = tuple(LogicalType.values)

# Physical type names (lower case, without size) and the logical type each stands for.
PHYSICAL_TO_LOGICAL = {
    **dict.fromkeys(
        ["varchar", "char", "character", "nvarchar", "nchar", "text", "string", "uuid", "clob"],
        LogicalType.STRING,
    ),
    **dict.fromkeys(["int", "integer", "bigint", "smallint", "tinyint", "int64"], "integer"),
    **dict.fromkeys(
        ["decimal", "numeric", "number", "float", "double", "real", "float64", "money"], "number"
    ),
    "date": LogicalType.DATE,
    **dict.fromkeys(["timestamp", "datetime", "timestamptz", "timestamp_ntz"], "timestamp"),
    "time": LogicalType.TIME,
    **dict.fromkeys(["boolean", "bool", "bit"], LogicalType.BOOLEAN),
    **dict.fromkeys(["json", "jsonb", "object", "struct", "variant", "map"], LogicalType.OBJECT),
    "array": LogicalType.ARRAY,
}
_TYPE_SIZE = re.compile(r"^\s*([A-Za-z_][\w ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")
_NUMERIC_BASES = {"decimal", "numeric", "number"}


@lru_cache(maxsize=4096)  # a contract repeats a few dozen types over thousands of attributes
def parse_physical_type(physical_type: str) -> tuple[int | None, int | None, int | None]:
    """(length, precision, scale) of e.g. VARCHAR(100) or DECIMAL(12,2)."""
    match = _TYPE_SIZE.match(physical_type or "")
    if not match or match.group(2) is None:
        return None, None, None
    base, first, second = match.group(1).lower(), int(match.group(2)), match.group(3)
    if base in _NUMERIC_BASES or second is not None:
        return None, first, int(second) if second is not None else None
    return first, None, None


def logical_type_of(physical_type: str) -> str | None:
    match = _TYPE_SIZE.match(physical_type or "")
    if not match:
        return None
    return PHYSICAL_TO_LOGICAL.get(match.group(1).lower().strip())
