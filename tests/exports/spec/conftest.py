"""Fixtures of the specification stories: the demo contract published, the demo Mart cataloged
and profiled, the demo mapping written by the Tech BA with a review in progress around it."""

from __future__ import annotations

import io

import openpyxl
import pytest

from exports.services import spec as services
from mappings.demo import apply_demo_mapping, demo_mapping
from tests.catalog.conftest import cataloged, demo_mart_file, profiled, source  # noqa: F401
from tests.mappings.conftest import published  # noqa: F401
from workbench.choices import Role

from ...factories import member


@pytest.fixture
def etl(engagement):
    return member(engagement, Role.ETL_DEVELOPER, "etl")


@pytest.fixture
def mapped(published, profiled, engagement, ba, etl, sme):  # noqa: F811
    """The demo story: mapped by the BA, feasibility by the ETL Developer, an SME review."""
    demo_mapping(engagement, {"ba": ba, "etl": etl, "sme": sme})
    return engagement


@pytest.fixture
def partly_mapped(published, cataloged, engagement, ba):  # noqa: F811
    apply_demo_mapping(engagement, ba, entities=["customer", "campaign"])
    return engagement


def export_bytes(engagement, user) -> bytes:
    buffer = io.BytesIO()
    services.spec_export(engagement=engagement, acting_user=user, stream=buffer)
    return buffer.getvalue()


def open_workbook(content: bytes):
    """The exported workbook, opened for editing as a spreadsheet program would."""
    return openpyxl.load_workbook(io.BytesIO(content))


def save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row_of(ws, *key: str) -> int:
    """The row number of an entity (one name) or an attribute (entity, attribute)."""
    for row in ws.iter_rows(min_row=2):
        if tuple(c.value for c in row[: len(key)]) == key:
            return row[0].row
    raise LookupError(key)


def column_of(ws, header: str) -> int:
    return [c.value for c in ws[1]].index(header) + 1


def edit(ws, key: tuple[str, ...], header: str, value) -> None:
    ws.cell(row=row_of(ws, *key), column=column_of(ws, header)).value = value
