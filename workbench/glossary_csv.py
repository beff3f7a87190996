"""Importing a glossary from a CSV file (Term,Definition[,Synonyms]): all rows or none.

Each row goes through `services.glossary_term_create`, so the policy, the validation and history are
those of a term typed on the page; any refused row rolls the whole file back, and every refused row
is reported with its line number.
"""

from __future__ import annotations

import csv
import io

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from . import policy, services
from .models import Engagement, GlossaryTerm
from .policy import Action
from .uploads import max_sheet_rows

COLUMNS = {"term": "term", "definition": "definition", "synonyms": "synonyms"}
REQUIRED = ("term", "definition")
# Enough to show what is wrong without flooding a terminal.
MAX_REPORTED = 20


def glossary_import_csv(
    *, engagement: Engagement, content: bytes, acting_user: User
) -> list[GlossaryTerm]:
    """Create one glossary term per CSV row; refused as a whole with row-located errors."""
    policy.check(acting_user, engagement, Action.EDIT_GLOSSARY)
    rows = _read_rows(content)
    errors: list[str] = []
    created: list[GlossaryTerm] = []
    with transaction.atomic():
        for line, data in rows:
            try:
                created.append(
                    services.glossary_term_create(
                        engagement=engagement, data=data, acting_user=acting_user
                    )
                )
            except ValidationError as exc:
                errors.append(f"row {line}: {_one_line(exc).rstrip('.')}")
        if errors:
            shown = errors[:MAX_REPORTED]
            if len(errors) > MAX_REPORTED:
                shown.append(f"… and {len(errors) - MAX_REPORTED} more rows refused")
            # Raising inside the block rolls back the rows already created.
            raise ValidationError(f"Nothing imported: {'; '.join(shown)}.")
    return created


def _read_rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text; save the CSV as UTF-8.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise ValidationError("The file is empty; the first row must be: Term,Definition.")
    # A blank header cell (a spreadsheet's trailing comma) names no column; values under it are refused.
    fields = [COLUMNS.get(cell.strip().casefold(), "") if cell.strip() else None for cell in header]
    unknown = [cell for cell, field in zip(header, fields, strict=True) if field == ""]
    if unknown:
        raise ValidationError(
            f"Unknown column {', '.join(repr(c) for c in unknown)} in the first row; the columns "
            "are Term, Definition and optionally Synonyms."
        )
    missing = [name.capitalize() for name in REQUIRED if name not in fields]
    if missing:
        raise ValidationError(f"The first row has no {' or '.join(missing)} column.")
    rows: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, as spreadsheets save them
        if len(rows) >= max_sheet_rows():
            raise ValidationError(
                f"The file has more than {max_sheet_rows():,} rows, the most one import reads "
                "(WORKBENCH_MAX_SHEET_ROWS); split the file."
            )
        if len(cells) > len(fields) or any(
            cell.strip() for cell, field in zip(cells, fields, strict=False) if field is None
        ):
            raise ValidationError(
                f"row {reader.line_num}: a value outside the named columns; quote values that "
                "contain commas."
            )
        data = {field: cell.strip() for field, cell in zip(fields, cells, strict=False) if field}
        rows.append((reader.line_num, {name: data.get(name, "") for name in fields if name}))
    if not rows:
        raise ValidationError("The file has a header but no terms.")
    return rows


def _one_line(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(
            f"{field}: {message}" if field != "__all__" else message
            for field, messages in exc.message_dict.items()
            for message in messages
        )
    return " ".join(exc.messages)
