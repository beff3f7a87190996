"""Writing the Master Mapping Specification with openpyxl in write-only mode.

Rows are streamed to the file as they are produced: memory holds the rows being read from the
database, not a second copy as cells. Every cell of a sheet shares one of a few style arrays, so
styling costs a copy of a small array per cell. Drop-down lists, conditional highlighting of gaps,
frozen headers, autofilters and print settings are sheet-level records written once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar, overload

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell._writer import _set_attributes
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.compat import safe_string
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import xmlfile

from mappings.selectors.gap import GapItem, gap_stream
from mappings.selectors.mapping import UNMAPPED_STATES

from ..printing import page_setup, row_height
from ..selectors.spec import (
    SpecData,
    catalog_rows,
    change_log,
    last_approved_at,
    rules_dialects,
    signoff_rows,
    spec_data,
    spec_stamp,
    type_label,
)
from . import layout as L

Progress = Callable[[float, str], None]

NAVY = "12263F"
# Named as the workbook's default font: without a name LibreOffice prints a header in a serif.
HEADER_FONT = Font(name="Calibri", bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor=NAVY)
TOP_WRAP = Alignment(vertical="top", wrap_text=True)
TOP = Alignment(vertical="top")
GAP_FILL = PatternFill("solid", bgColor="FDECEA")
BLOCKED_FILL = PatternFill("solid", bgColor="FFF4D6")
LOCKED_FILL = PatternFill("solid", fgColor="F2F4F7")
NOT_FEASIBLE_FONT = Font(color="B3261E", bold=True)

# Column widths per sheet (characters), one per header column; the long-text columns wrap.
WIDTHS = {
    L.ENTITIES: [22, 26, 8, 48, 36, 10, 12, 13, 22, 30, 12, 36, 11],
    L.MAPPING: [20, 24, 16, 9, 36, 22, 22, 48, 14, 32, 14, 20, 14, 32, 11],
    L.SUMMARY: [24, 10, 11, 11, 9, 12, 9, 11, 9, 10, 10, 10, 9, 9, 10],
    L.GAP: [22, 24, 26, 60, 10, 48],
    L.SOURCE_CATALOG: [28, 24, 16, 9, 9, 10, 8, 10, 18, 18, 40],
    L.GLOSSARY: [24, 70, 36],
    L.CHANGE_LOG: [18, 20, 22, 24, 18, 40, 40],
}
WRAPPED = {
    L.ENTITIES: {"Joins", "Filter", "Delete Condition", "Notes"},
    L.MAPPING: {
        "Canonical Meaning",
        "Source Table(s)",
        "Source Column(s)",
        "Transformation",
        "Edge Cases",
        "Notes",
    },
    L.GAP: {"Issue", "Suggested Action"},
    L.GLOSSARY: {"Definition", "Synonyms"},
    L.CHANGE_LOG: {"Before", "After"},
    L.SOURCE_CATALOG: {"Used By"},
}
# Columns a re-import ignores are shaded so a BA sees where edits count.
INFORMATIVE_COLUMNS = {
    L.ENTITIES: {"Interface Entity", "Load Order", "Row Version"},
    L.MAPPING: {
        "Interface Entity",
        "Interface Attribute",
        "Data Type",
        "Required",
        "Canonical Meaning",
        "Source Table(s)",
        "Row Version",
    },
}


_Value = TypeVar("_Value")


@overload
def text(value: str) -> str: ...
@overload
def text(value: _Value) -> _Value: ...
def text(value: object) -> object:
    """A cell value: strings without the control characters a workbook cannot hold."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


class _ColumnCell(Cell):
    """A column's cell: its style never changes, so its style id is looked up once. Used for the
    values the row writer leaves to openpyxl (numbers other than whole ones, dates, booleans)."""

    __slots__ = ("_style_id",)

    @property
    def style_id(self) -> int:
        return self._style_id


MAX_CELL_TEXT = 32767  # the longest text a cell holds; openpyxl cuts longer text there


class _Row(list):
    """A data row for SheetWriter's row writer: (column index, value) pairs, empty cells left
    out."""

    __slots__ = ()


def _cells_to_row(cells, row_idx):
    if isinstance(cells, _Row):
        return cells
    return _positioned(cells, row_idx)


def _positioned(cells, row_idx):
    for col_idx, cell in enumerate(cells, 1):
        if cell is None:
            continue
        cell.column, cell.row = col_idx, row_idx
        yield cell


# What lxml refuses in a text even once the control characters are gone.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _escaped(value: str) -> str:
    """Text as lxml writes it in an element: &, <, > and carriage returns escaped."""
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


# A write-only sheet's size is known only once its rows are written, but its <dimension> comes
# before them. Without one, openpyxl reads every such sheet to its end merely to open the
# workbook (the import, a BA's script): 6 s for an untouched export of 100,000 rows. So room for
# the largest size a sheet can have is written first, and the real size over it at the end.
_UNSIZED = "A1:XFD1048576"
_DIMENSION_ROOM = f'<dimension ref="{_UNSIZED}"/>'.encode()


class _RowsWriter(WorksheetWriter):
    """openpyxl's sheet writer, over a file this module holds too: SheetWriter writes its rows'
    XML into it directly, after what lxml buffered; `size` gives the sheet's range at the end."""

    def __init__(self, ws, size: Callable[[], str]):
        super().__init__(ws)
        self.size = size

    def write_dimensions(self):
        self.xf.send(SheetDimension(ref=_UNSIZED).to_tree())

    def close(self):
        super().close()
        sized = f'<dimension ref="{self.size()}"'.encode()
        with open(self.out, "r+b") as sheet:
            at = sheet.read(4096).find(_DIMENSION_ROOM)
            if at < 0:
                raise RuntimeError(f"{self.ws.title}: no room kept for the sheet's dimension")
            sheet.seek(at)
            sheet.write(sized + b" " * (len(_DIMENSION_ROOM) - len(sized) - 2) + b"/>")

    def get_stream(self):
        with (
            open(self.out, "wb") as self.file,
            xmlfile(self.file) as xf,
            xf.element("worksheet", xmlns=SHEET_MAIN_NS),
        ):
            try:
                while True:
                    element = yield
                    if element is True:
                        yield xf
                    elif element is not None:
                        xf.write(element)
            except GeneratorExit:
                pass


def _cell_text(value: str) -> str:
    """A text as openpyxl stores it: without the control characters a workbook cannot hold, cut
    at the longest text a cell holds."""
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value[:MAX_CELL_TEXT]


class SheetWriter:
    """One write-only sheet: header, widths, per-column shared styles, print settings.

    Data rows are written as openpyxl writes them (an inline string, or a number, per cell, with
    the column's style), but each row as one XML element built at once: openpyxl's own path binds
    every value to a cell object and opens an XML context per cell, which costs more than the
    rest of the export together."""

    def __init__(
        self,
        workbook: Workbook,
        title: str,
        header: list[str],
        *,
        freeze: str = "A2",
        widths: list[int] | None = None,
    ):
        self.ws = workbook.create_sheet(title)
        self.title = title
        self.header = header
        self.rows = 0
        ws = self.ws
        widths = widths or WIDTHS.get(title, [18] * len(header))
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = freeze
        page_setup(ws, title)
        ws.print_options.gridLines = True
        wrapped = WRAPPED.get(title, set())
        informative = INFORMATIVE_COLUMNS.get(title, set())
        self.wrapped = [(i, widths[i]) for i, name in enumerate(header) if name in wrapped]
        # One styled cell per column: its style id is what every cell of the column carries.
        self.cells = []
        for name in header:
            cell = _ColumnCell(ws, row=1, column=1)
            cell.alignment = TOP_WRAP if name in wrapped else TOP
            if name in informative:
                cell.fill = LOCKED_FILL
            if name == "When":
                cell.number_format = "yyyy-mm-dd hh:mm"
            cell._style_id = workbook._cell_styles.add(cell._style)
            self.cells.append(cell)
        self._letters = [get_column_letter(i) for i in range(1, len(header) + 1)]
        self._styles = [str(cell._style_id) for cell in self.cells]
        # The sheet's start (widths, frozen panes, print set-up) is written now, and rows go
        # through this writer's row writer from here on.
        ws._values_to_row = _cells_to_row
        ws._writer = _RowsWriter(ws, size=lambda: self.ref)
        ws._writer.write_top()
        self._write_cells = ws._writer.write_row
        ws._writer.write_row = self._write_row
        head = []
        for name in header:
            cell = Cell(ws, row=1, column=1, value=name)
            cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, TOP_WRAP
            head.append(cell)
        self._write(head, 1, row_height(zip(header, widths, strict=True), bold=True))

    def append(self, values: Iterable) -> None:
        values = list(values)
        if len(values) != len(self.header):
            raise ValueError(f"{self.title}: {len(values)} values for {len(self.header)} columns")
        row = _Row()
        shown = [None] * len(values)
        for column, value in enumerate(values):
            if value is None or value == "":
                continue  # an empty cell is not written at all
            if isinstance(value, str):
                value = _cell_text(value)
            row.append((column, value))
            shown[column] = value
        height = row_height((shown[i], width) for i, width in self.wrapped if shown[i])
        self._write(row, self.rows + 2, height)
        self.rows += 1

    def _write(self, row: list, index: int, height: float | None) -> None:
        """Append a row, at its height when it needs more than one line. The height is set only
        while the row is written: a write-only sheet writes it at once and keeps nothing."""
        if height is None:
            self.ws.append(row)
            return
        self.ws.row_dimensions[index].height = height
        self.ws.append(row)
        del self.ws.row_dimensions[index]

    def _write_row(self, xf, row, row_idx: int) -> None:
        if not isinstance(row, _Row):
            self._write_cells(xf, row, row_idx)  # the header's own styled cells
            return
        attrs = {"r": f"{row_idx}"}
        attrs.update(self.ws.row_dimensions.get(row_idx, {}))
        letters, styles = self._letters, self._styles
        parts = ["<row", *(f' {name}="{value}"' for name, value in attrs.items()), ">"]
        for column, value in row:
            if type(value) is str and value not in ERROR_CODES:
                if _NOT_XML.search(value):  # as lxml refuses it
                    raise ValueError(
                        "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or "
                        "control characters"
                    )
                space = ' xml:space="preserve"' if value != value.strip() else ""
                parts.append(
                    f'<c r="{letters[column]}{row_idx}" s="{styles[column]}" t="inlineStr">'
                    f"<is><t{space}>{_escaped(value)}</t></is></c>"
                )
            elif type(value) is int:
                parts.append(
                    f'<c r="{letters[column]}{row_idx}" s="{styles[column]}" t="n">'
                    f"<v>{safe_string(value)}</v></c>"
                )
            else:
                parts.append(self._other(column, value, row_idx))
        parts.append("</row>")
        xf.flush()  # what lxml holds goes first
        # As lxml writes a sheet: ASCII, other characters as references.
        self.ws._writer.file.write("".join(parts).encode("ascii", "xmlcharrefreplace"))

    def _other(self, column: int, value, row_idx: int) -> str:
        """A cell of another type (a date, a decimal, a boolean, an error code), typed and
        converted by openpyxl's own cell."""
        cell = self.cells[column]
        cell.value = value
        if cell.data_type == "f":
            cell.data_type = "s"  # text that merely starts with '=' is not a formula
        cell.column, cell.row = column + 1, row_idx
        converted, attrs = _set_attributes(cell, True)
        head = "".join(f' {name}="{value}"' for name, value in attrs.items())
        if cell.data_type == "s":
            return f"<c{head}><is><t>{_escaped(converted)}</t></is></c>"
        return f"<c{head}><v>{_escaped(safe_string(converted))}</v></c>"

    @property
    def ref(self) -> str:
        return f"A1:{get_column_letter(len(self.header))}{self.rows + 1}"

    def column(self, name: str) -> str:
        return get_column_letter(self.header.index(name) + 1)

    def body_range(self, name: str) -> str:
        letter = self.column(name)
        return f"{letter}2:{letter}{max(self.rows + 1, 2)}"

    def finish(
        self,
        *,
        choices: dict[str, list[str]] | None = None,
        suggestions: dict[str, tuple[list[str], str]] | None = None,
    ) -> None:
        """Close the sheet: autofilter, and drop-down lists on its columns — `choices` refuse any
        other value; `suggestions` (labels, what else is allowed) warn and let the value stand."""
        self.ws.auto_filter.ref = self.ref
        for name, labels in (choices or {}).items():
            self._list(name, labels, error=f"Choose one of: {', '.join(labels)}.", style="stop")
        for name, (labels, otherwise) in (suggestions or {}).items():
            error = f"Choose one of: {', '.join(labels)}; {otherwise}."
            self._list(name, labels, error=error, style="warning")

    def _list(self, name: str, labels: list[str], *, error: str, style: str) -> None:
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(labels) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorStyle=style,
            errorTitle=name,
            error=error,
        )
        validation.add(self.body_range(name))
        self.ws.data_validations.append(validation)

    def highlight(self, formula: str, *, fill=None, font=None, columns: str | None = None) -> None:
        cells = columns or f"A2:{get_column_letter(len(self.header))}{max(self.rows + 1, 2)}"
        self.ws.conditional_formatting.add(
            cells, FormulaRule(formula=[formula], fill=fill, font=font, stopIfTrue=False)
        )


def _no_progress(_fraction: float, _message: str = "") -> None:
    return None


def write_spec(
    *,
    engagement,
    path_or_stream,
    generated_by: str,
    progress: Progress | None = None,
    data: SpecData | None = None,
) -> dict:
    """Write the workbook to a path or a binary stream; returns what the Cover says."""
    progress = progress or _no_progress
    data = data or spec_data(engagement=engagement)
    progress(10, "Read the mapping")
    workbook = Workbook(write_only=True)
    cover = _cover(workbook, data, generated_by)
    _summary(workbook, data)
    _entities(workbook, data)
    progress(20, "Writing the Mapping sheet")
    _mapping(workbook, data, progress)
    progress(80, "Writing GAP, catalog, glossary and change log")
    _gap(workbook, gap_stream(engagement=engagement))
    _catalog(workbook, data)
    _glossary(workbook, engagement)
    _change_log(workbook, engagement)
    progress(95, "Saving the workbook")
    workbook.save(path_or_stream)
    return cover


def _cover(workbook: Workbook, data: SpecData, generated_by: str) -> dict:
    ws = workbook.create_sheet(L.COVER)
    ws.column_dimensions["A"].width = 22
    for letter in "BCDEF":
        ws.column_dimensions[letter].width = 26
    page_setup(ws, L.COVER, titles=None)
    engagement, layer = data.engagement, data.layer
    now = timezone.localtime()
    stamp = spec_stamp(engagement=engagement)
    cover = {
        L.COVER_ENGAGEMENT: engagement.name,
        L.COVER_SLUG: engagement.slug,
        L.COVER_CLIENT: engagement.client,
        L.COVER_CONTRACT: layer.name if layer else "",
        L.COVER_CONTRACT_VERSION: layer.version if layer else "",
        L.COVER_SPEC_VERSION: stamp.label,
        L.COVER_HASH: stamp.content_hash,
        L.COVER_RULES_DIALECT: rules_dialects(engagement=engagement),
        L.COVER_GENERATED_AT: now.strftime("%Y-%m-%d %H:%M %Z"),
        L.COVER_GENERATED_BY: generated_by,
    }
    title = Cell(ws, row=1, column=1, value="Master Source→Interface Mapping Specification")
    title.font = Font(bold=True, size=16, color=NAVY)
    ws.append([title])
    ws.append([])
    label_font = Font(bold=True)
    for label, value in cover.items():
        cell = Cell(ws, row=1, column=1, value=label)
        cell.font = label_font
        ws.append([cell, text(value)])
    ws.append([])
    heading = Cell(ws, row=1, column=1, value="Sign-off")
    heading.font = Font(bold=True, size=13, color=NAVY)
    ws.append([heading])
    head = []
    for name in L.SIGNOFF_HEADER:
        cell = Cell(ws, row=1, column=1, value=name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        head.append(cell)
    ws.append(head)
    rows = signoff_rows(engagement=engagement)
    for row in rows:
        ws.append([_cell_value(row.get(key, "")) for key in L.SIGNOFF_HEADER])
    if not rows:
        ws.append(["No sign-off has been recorded for this engagement yet."])
    ws.append([])
    note = (
        "Edit the Entities and Mapping sheets, then import the workbook back (import_spec or the "
        "Import page). Shaded columns are informative; Row Version detects edits made in the "
        "workbench since this export. Do not rename sheets or headers."
    )
    ws.append([Cell(ws, row=1, column=1, value=note)])
    return cover


SUMMARY_VALUES = (
    "pk",
    "entity_mapping__entity_name",
    "attribute_name",
    "status",
    "feasibility",
    "sme_review",
)


def _summary(workbook: Workbook, data: SpecData) -> None:
    sheet = SheetWriter(workbook, L.SUMMARY, L.SUMMARY_HEADER)
    for entity, pairs in data.entity_rows(SUMMARY_VALUES, ("entity__name", "name", "required")):
        rows = [mapping for _attribute, mapping in pairs]
        mapped = sum(1 for r in rows if r["status"] not in UNMAPPED_STATES)
        mandatory = [m for attribute, m in pairs if attribute is not None and attribute["required"]]

        def count(field, value, rows=rows):
            return sum(1 for r in rows if r[field] == value)

        sheet.append(
            [
                entity["entity_name"],
                data.order.position(entity["entity_name"]),
                len(rows),
                len(mandatory),
                mapped,
                sum(1 for r in mandatory if r["status"] in UNMAPPED_STATES),
                count("status", "blocked"),
                round(100 * mapped / len(rows)) if rows else 0,
                count("feasibility", "feasible"),
                count("feasibility", "concerns"),
                count("feasibility", "not_feasible"),
                count("feasibility", "not_assessed"),
                count("sme_review", "agreed"),
                count("sme_review", "query_raised"),
                count("sme_review", "not_reviewed"),
            ]
        )
    sheet.finish()
    sheet.highlight(f"${sheet.column('Mandatory Unmapped')}2>0", fill=GAP_FILL)


def _entities(workbook: Workbook, data: SpecData) -> None:
    sheet = SheetWriter(workbook, L.ENTITIES, L.ENTITY_HEADER, freeze="B2")
    for e in data.entities():
        sheet.append(
            [
                e["entity_name"],
                e["driving_table"],
                e["driving_alias"],
                e["joins"],
                e["filter"],
                data.order.position(e["entity_name"]),
                e["frequency"],
                L.LOAD_STRATEGY.get(e["load_strategy"], e["load_strategy"]),
                e["watermark"],
                e["delete_condition"],
                L.ENTITY_STATUS.get(e["status"], e["status"]),
                e["notes"],
                e["row_version"],
            ]
        )
    sheet.finish(
        choices={
            "Status": list(L.ENTITY_STATUS.values()),
            "Load Strategy": list(L.LOAD_STRATEGY.values()),
        },
        suggestions={"Frequency": (L.FREQUENCIES, "or a cron schedule such as 0 2 * * *")},
    )
    status = sheet.column("Status")
    sheet.highlight(f'OR(${status}2="Unmapped",$B2="")', fill=GAP_FILL)
    sheet.highlight(f'${status}2="Blocked"', fill=BLOCKED_FILL)


def write_mapping_sheet(workbook: Workbook, engagement) -> int:
    """The Mapping sheet alone (its reads included); returns its row count. For the bench."""
    return _mapping(workbook, spec_data(engagement=engagement), _no_progress)


def write_change_log_sheet(workbook: Workbook, engagement) -> int:
    """The Change Log sheet alone (its reads included); returns its row count. For the bench."""
    return _change_log(workbook, engagement)


def _mapping(workbook: Workbook, data: SpecData, progress: Progress) -> int:
    sheet = SheetWriter(workbook, L.MAPPING, L.MAPPING_HEADER, freeze="C2")
    status_label, feasibility_label, review_label = L.MAPPING_STATUS, L.FEASIBILITY, L.SME_REVIEW
    total = max(data.contract_size, 1)
    for i, (attribute, m) in enumerate(data.mapping_rows(), start=1):
        transformation = m.get("transformation", "")
        sheet.append(
            [
                attribute["entity__name"],
                attribute["name"],
                type_label(attribute),
                "Yes" if attribute["required"] else "No",
                attribute["canonical_meaning"] or attribute["description"],
                ", ".join(m["lineage_tables"]),
                ", ".join(m["lineage"]) if transformation else m["source_columns"],
                transformation,
                m.get("default_value", ""),
                m.get("edge_cases", ""),
                status_label.get(m.get("status", "unmapped"), ""),
                feasibility_label.get(m.get("feasibility", "not_assessed"), ""),
                review_label.get(m.get("sme_review", "not_reviewed"), ""),
                m.get("notes", ""),
                m.get("row_version"),
            ]
        )
        if i % 2000 == 0:
            progress(20 + 60 * i / total, f"Mapping sheet: {i} of {total} rows")
    sheet.finish(
        choices={
            "Status": list(status_label.values()),
            "Feasibility": list(feasibility_label.values()),
            "SME Review": list(review_label.values()),
        }
    )
    req, status, feas = (
        sheet.column("Required"),
        sheet.column("Status"),
        sheet.column("Feasibility"),
    )
    open_states = ",".join(f'${status}2="{status_label[s]}"' for s in sorted(UNMAPPED_STATES))
    sheet.highlight(f'AND(${req}2="Yes",OR({open_states}))', fill=GAP_FILL)
    sheet.highlight(f'${status}2="Blocked"', fill=BLOCKED_FILL)
    sheet.highlight(
        f'${feas}2="{feasibility_label["not_feasible"]}"',
        font=NOT_FEASIBLE_FONT,
        columns=sheet.body_range("Feasibility"),
    )
    return sheet.rows


def _gap(workbook: Workbook, items: Iterable[GapItem]) -> None:
    """The GAP sheet, its items written as they come (gap_stream)."""
    sheet = SheetWriter(workbook, L.GAP, L.GAP_HEADER)
    for item in items:
        sheet.append(
            [
                item.entity,
                item.attribute,
                item.category,
                item.issue,
                item.severity.capitalize(),
                item.action,
            ]
        )
    sheet.finish(choices={})
    severity = sheet.column("Severity")
    sheet.highlight(f'${severity}2="High"', fill=GAP_FILL)
    sheet.highlight(f'${severity}2="Medium"', fill=BLOCKED_FILL)


def _catalog(workbook: Workbook, data: SpecData) -> None:
    sheet = SheetWriter(workbook, L.SOURCE_CATALOG, L.CATALOG_HEADER, freeze="C2")
    for c in catalog_rows(data=data):
        sheet.append(
            [
                c["table"],
                c["column"],
                c["data_type"],
                "Yes" if c["nullable"] else "No",
                "Yes" if c["primary_key"] else "",
                c["rows"],
                c["null_percent"],
                c["distinct"],
                c["min"],
                c["max"],
                c["used_by"],
            ]
        )
    sheet.finish()


def _glossary(workbook: Workbook, engagement) -> None:
    sheet = SheetWriter(workbook, L.GLOSSARY, L.GLOSSARY_HEADER)
    for term, definition, synonyms in engagement.glossary.order_by("term").values_list(
        "term", "definition", "synonyms"
    ):
        sheet.append([term, definition, synonyms])
    sheet.finish()


def _change_log(workbook: Workbook, engagement) -> int:
    sheet = SheetWriter(workbook, L.CHANGE_LOG, L.CHANGE_LOG_HEADER)
    labels = {
        "Status": {**L.MAPPING_STATUS, **L.ENTITY_STATUS},
        "Feasibility": L.FEASIBILITY,
        "SME Review": L.SME_REVIEW,
    }
    zone = timezone.get_current_timezone()  # looked up once: the log has a row per field edit
    for row in change_log(engagement=engagement, since=last_approved_at(engagement=engagement)):
        names = labels.get(row["field"], {})
        sheet.append(
            [
                row["when"].astimezone(zone).replace(tzinfo=None, microsecond=0),
                row["who"],
                row["entity"],
                row["attribute"],
                row["field"],
                names.get(row["before"], row["before"]),
                names.get(row["after"], row["after"]),
            ]
        )
    sheet.finish()
    return sheet.rows


def _cell_value(value):
    return _naive(value).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else text(value)


def _naive(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(tzinfo=None, microsecond=0)
