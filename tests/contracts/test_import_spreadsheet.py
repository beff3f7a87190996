"""A contract that arrives as a spreadsheet: one row per attribute, .csv or .xlsx."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from contracts import services
from contracts.importers import SPREADSHEET_HEADER
from contracts.models import InterfaceAttribute, InterfaceLayer

pytestmark = pytest.mark.django_db

ROWS = [
    ["customer", "customer_id", "VARCHAR(36)", "Y", "Y", "Y", "", "", "Golden record key.", ""],
    ["customer", "email", "string", "N", "", "", "", "", "Preferred e-mail, lower-cased.", "PII"],
    [
        "customer",
        "status",
        "VARCHAR(10)",
        "Y",
        "N",
        "N",
        "active | lapsed",
        "",
        "Today's state.",
        "",
    ],
    ["email_event", "event_id", "string", "Y", "1", "Y", "", "", "Event key.", ""],
    ["email_event", "customer_id", "string", "Y", "N", "N", "", "customer.customer_id", "", ""],
    ["email_event", "amount", "DECIMAL(12,2)", "n", "", "", "", "", "", ""],
]


def csv_bytes(rows, header=SPREADSHEET_HEADER) -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def xlsx_bytes(rows, header=SPREADSHEET_HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Contract"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("maker,file_name", [(csv_bytes, "m360.csv"), (xlsx_bytes, "m360.xlsx")])
def test_a_spreadsheet_imports_with_types_keys_values_and_references(
    engagement, ba, maker, file_name
):
    layer = services.contract_import(
        engagement=engagement, file_name=file_name, content=maker(ROWS), acting_user=ba
    )

    assert (layer.name, layer.version) == ("m360", "1.0.0")
    assert list(layer.entities.values_list("name", flat=True)) == ["customer", "email_event"]
    status = InterfaceAttribute.objects.get(layer=layer, name="status")
    assert (status.logical_type, status.physical_type, status.length) == (
        "string",
        "VARCHAR(10)",
        10,
    )
    assert status.allowed_values == ["active", "lapsed"]
    assert status.canonical_meaning == "Today's state."
    key = InterfaceAttribute.objects.get(layer=layer, entity__name="email_event", name="event_id")
    assert (key.primary_key, key.primary_key_position, key.required) == (True, 1, True)
    amount = InterfaceAttribute.objects.get(layer=layer, name="amount")
    assert (amount.logical_type, amount.precision, amount.scale) == ("number", 12, 2)
    assert layer.relationships.get().to_attribute.name == "customer_id"


def test_a_second_spreadsheet_of_the_same_contract_gets_the_next_version(engagement, ba):
    services.contract_import(
        engagement=engagement, file_name="m360.csv", content=csv_bytes(ROWS), acting_user=ba
    )
    layer = services.contract_import(
        engagement=engagement, file_name="m360.csv", content=csv_bytes(ROWS[:3]), acting_user=ba
    )

    assert layer.version == "2.0.0"


BAD_SHEETS = [
    pytest.param(
        csv_bytes(ROWS, header=["Entity", "Attribute", "Type"]),
        "m360.csv: row 1: wrong header; expected exactly: Entity | Attribute | Data Type | "
        "Required | Primary Key | Unique | Allowed Values | References | Canonical Meaning | "
        "Description.",
        "m360.csv",
        id="wrong-header-csv",
    ),
    pytest.param(
        xlsx_bytes(ROWS, header=["Entity", "Attribute", "Type"]),
        "m360.xlsx: sheet 'Contract', row 1: wrong header; expected exactly: Entity | "
        "Attribute | Data Type | Required | Primary Key | Unique | Allowed Values | References | "
        "Canonical Meaning | Description.",
        "m360.xlsx",
        id="wrong-header-xlsx",
    ),
    pytest.param(
        xlsx_bytes(ROWS[:1] + [["customer", "age", "geography", "N", "", "", "", "", "", ""]]),
        "m360.xlsx: sheet 'Contract', row 3, column C (Data Type): unknown data type 'geography'; "
        "use a logical type (string, date, timestamp, time, number, integer, object, array, "
        "boolean) or a SQL type such as VARCHAR(100).",
        "m360.xlsx",
        id="unknown-type",
    ),
    pytest.param(
        csv_bytes(ROWS[:1] + [["customer", "age", "integer", "perhaps", "", "", "", "", "", ""]]),
        "m360.csv: row 3, column D (Required): expected Y or N, found 'perhaps'.",
        "m360.csv",
        id="bad-flag",
    ),
    pytest.param(
        csv_bytes(ROWS[:1] + [["customer", "customer_id", "string", "Y", "", "", "", "", "", ""]]),
        "m360.csv: row 3, column B (Attribute): duplicate attribute 'customer_id' in entity "
        "'customer'.",
        "m360.csv",
        id="duplicate-attribute",
    ),
    pytest.param(
        csv_bytes(
            ROWS[:1] + [["order", "customer_id", "string", "Y", "", "", "", "client.id", "", ""]]
        ),
        "m360.csv: row 3, column H (References): the relationship refers to a missing entity "
        "'client'.",
        "m360.csv",
        id="reference-to-missing-entity",
    ),
    pytest.param(
        csv_bytes(ROWS[:1] + [["customer", "other_id", "string", "Y", "1", "", "", "", "", ""]]),
        "m360.csv: row 3, column E (Primary Key): primary key position 1 is already taken by "
        "'customer_id'.",
        "m360.csv",
        id="primary-key-twice",
    ),
    pytest.param(
        csv_bytes([["", "email", "string", "N", "", "", "", "", "", ""]]),
        "m360.csv: row 2, column A (Entity): missing value.",
        "m360.csv",
        id="missing-entity",
    ),
    pytest.param(
        b"PK\x03\x04 not really a workbook",
        "m360.xlsx: not a readable .xlsx workbook.",
        "m360.xlsx",
        id="not-a-workbook",
    ),
]


@pytest.mark.parametrize(("content", "message", "file_name"), BAD_SHEETS)
def test_a_bad_spreadsheet_is_refused_naming_row_and_column(
    engagement, ba, content, message, file_name
):
    with pytest.raises(ValidationError) as exc:
        services.contract_import(
            engagement=engagement, file_name=file_name, content=content, acting_user=ba
        )

    assert exc.value.messages == [message]
    assert InterfaceLayer.objects.count() == 0
    assert InterfaceAttribute.objects.count() == 0
