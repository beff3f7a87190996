"""Bad workbooks: each refused with a message naming the sheet, the row and the column, and
nothing applied — not a preview, not a single row."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.exceptions import ValidationError

from contracts import services as contract_services
from contracts.demo import DEMO_CONTRACT
from exports.models import SpecImport
from exports.services import spec as services
from mappings.models import AttributeMapping
from tests.factories import EngagementFactory, MembershipFactory
from workbench.choices import Role

from .conftest import edit, export_bytes, open_workbook, row_of, save

pytestmark = pytest.mark.django_db


def refused(engagement, user, content: bytes) -> list[str]:
    before = AttributeMapping.history.model.objects.count()
    with pytest.raises(ValidationError) as error:
        services.spec_import_preview(
            engagement=engagement, file_name="bad.xlsx", content=content, acting_user=user
        )
    assert SpecImport.objects.count() == 0
    assert AttributeMapping.history.model.objects.count() == before
    return error.value.message_dict["file"]


@pytest.fixture
def workbook(partly_mapped, ba):
    return open_workbook(export_bytes(partly_mapped, ba))


def test_a_file_that_is_not_a_workbook(partly_mapped, ba):
    assert refused(partly_mapped, ba, b"Interface Entity,Interface Attribute\n") == [
        "This file is not an Excel workbook (.xlsx): export the specification and edit that."
    ]


def test_a_file_over_50_mb(partly_mapped, ba):
    assert refused(partly_mapped, ba, b"PK" + b"\0" * (50 * 1024 * 1024)) == [
        "The workbook is 50.0 MB; the limit is 50.0 MB (WORKBENCH_MAX_WORKBOOK_MB)."
    ]


def with_mapping_xml(content: bytes, change) -> bytes:
    """The workbook with its Mapping sheet's XML passed through `change`."""
    target = f"xl/worksheets/sheet{open_workbook(content).sheetnames.index('Mapping') + 1}.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as copy:
        assert target in source.namelist()
        for item in source.infolist():
            data = source.read(item)
            copy.writestr(item, change(data) if item.filename == target else data)
    return out.getvalue()


def unsized(xml: bytes) -> bytes:
    """The sheet without its size, as some tools write one: opening the workbook reads it
    through to size it."""
    return re.sub(rb"<dimension[^>]*/>", b"", xml)


def cut_off(xml: bytes) -> bytes:
    return xml[: len(xml) // 2]


def test_a_mapping_sheet_cut_off_midway(partly_mapped, ba):
    exported = export_bytes(partly_mapped, ba)

    # found as its rows are read (the export gives each sheet's size first, as Excel does)
    (problem,) = refused(partly_mapped, ba, with_mapping_xml(exported, cut_off))
    assert problem.startswith("Sheet Mapping: the sheet cannot be read (")
    assert problem.endswith("). Export the specification again and edit that.")
    # found on opening the workbook, when the sheet does not say its size
    (problem,) = refused(
        partly_mapped, ba, with_mapping_xml(exported, lambda xml: cut_off(unsized(xml)))
    )
    assert problem.startswith("A sheet of this workbook cannot be read (")


def test_a_mapping_sheet_whose_entities_would_expand_a_billion_times(partly_mapped, ba):
    """The classic XML bomb: a few hundred bytes of nested entities. Refused while reading, no
    entity ever expanded."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )

    def bomb(xml: bytes) -> bytes:
        xml = re.sub(rb"^<\?xml[^>]*\?>", b"", xml)  # the export sizes it first
        xml = xml.replace(b"<t>", b"<t>&lol9;", 1)
        return f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'.encode() + xml

    (problem,) = refused(partly_mapped, ba, with_mapping_xml(export_bytes(partly_mapped, ba), bomb))
    assert problem.startswith("Sheet Mapping: the sheet cannot be read (")
    assert "amplification" in problem


def test_a_workbook_from_another_engagement(partly_mapped, ba, lead):
    other = EngagementFactory(slug="other-client", created_by=lead)
    layer = contract_services.contract_import(
        engagement=other,
        file_name=DEMO_CONTRACT.name,
        content=DEMO_CONTRACT.read_bytes(),
        acting_user=lead,
    )
    contract_services.contract_publish(layer=layer, acting_user=lead)
    MembershipFactory(engagement=other, user=ba, role=Role.TECH_BA)

    assert refused(other, ba, export_bytes(partly_mapped, ba)) == [
        "Sheet Cover: this workbook belongs to the engagement 'acme-360', not 'other-client'."
    ]


def test_a_workbook_of_another_contract_version(partly_mapped, ba, workbook):
    cover = workbook["Cover"]
    for row in cover.iter_rows():
        if row[0].value == "Contract Version":
            row[1].value = "0.9.0"

    assert refused(partly_mapped, ba, save(workbook)) == [
        "Sheet Cover: this workbook was exported for the contract Marketing 360 0.9.0, but the "
        "published contract is Marketing 360 1.0.0. Export a new workbook."
    ]


def test_a_renamed_sheet(partly_mapped, ba, workbook):
    workbook["Mapping"].title = "Mapping (2)"

    assert refused(partly_mapped, ba, save(workbook)) == [
        "The sheet 'Mapping' is missing (the workbook has: Cover, Summary, Entities, "
        "Mapping (2), GAP, Source Catalog, Glossary, Change Log). Keep the sheet names of the "
        "exported specification."
    ]


def test_a_renamed_header(partly_mapped, ba, workbook):
    workbook["Mapping"]["H1"] = "Transform"

    assert refused(partly_mapped, ba, save(workbook)) == [
        "Sheet Mapping, row 1, column H: the header must be 'Transformation', not 'Transform'. "
        "Keep the header row of the exported specification."
    ]


def test_a_missing_header(partly_mapped, ba, workbook):
    workbook["Entities"].delete_cols(13)

    assert refused(partly_mapped, ba, save(workbook)) == [
        "Sheet Entities, row 1, column M: the header must be 'Row Version' (missing). "
        "Keep the header row of the exported specification."
    ]


def test_a_formula_in_a_cell(partly_mapped, ba, workbook):
    row = row_of(workbook["Mapping"], "customer", "email")
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", '="LOWER(c.email)"')

    assert refused(partly_mapped, ba, save(workbook)) == [
        f"Sheet Mapping, row {row}, column H (Transformation): formulas are not accepted; type "
        "the value."
    ]


def test_a_value_of_the_wrong_type(partly_mapped, ba, workbook):
    row = row_of(workbook["Mapping"], "customer", "email")
    edit(workbook["Mapping"], ("customer", "email"), "Row Version", "two")

    assert refused(partly_mapped, ba, save(workbook)) == [
        f"Sheet Mapping, row {row}, column O (Row Version): expected a whole number, got 'two'."
    ]


def test_an_emptied_row_version(partly_mapped, ba, workbook):
    row = row_of(workbook["Entities"], "customer")
    edit(workbook["Entities"], ("customer",), "Row Version", None)

    assert refused(partly_mapped, ba, save(workbook)) == [
        f"Sheet Entities, row {row}, column M (Row Version): the Row Version is empty; keep the "
        "exported value."
    ]


def test_a_duplicated_row(partly_mapped, ba, workbook):
    ws = workbook["Mapping"]
    first = row_of(ws, "customer", "email")
    ws.append([c.value for c in ws[first]])

    assert refused(partly_mapped, ba, save(workbook)) == [
        f"Sheet Mapping, row {ws.max_row}, column B (Interface Attribute): customer.email is "
        f"already on row {first}; keep one row per attribute."
    ]


def test_an_unknown_attribute_and_an_unknown_entity(partly_mapped, ba, workbook):
    row = row_of(workbook["Mapping"], "customer", "email")
    edit(workbook["Mapping"], ("customer", "email"), "Interface Attribute", "shoe_size")
    entity_row = row_of(workbook["Entities"], "campaign")
    edit(workbook["Entities"], ("campaign",), "Interface Entity", "campaigns")

    assert refused(partly_mapped, ba, save(workbook)) == [
        f"Sheet Entities, row {entity_row}, column A (Interface Entity): 'campaigns' is not an "
        "entity of the published contract.",
        f"Sheet Mapping, row {row}, column B (Interface Attribute): customer.shoe_size is not "
        "an attribute of the published contract.",
    ]


def test_a_status_that_is_not_in_the_list(partly_mapped, ba, workbook):
    row = row_of(workbook["Mapping"], "customer", "email")
    edit(workbook["Mapping"], ("customer", "email"), "Status", "Done")

    assert refused(partly_mapped, ba, save(workbook)) == [
        f"Sheet Mapping, row {row}, column K (Status): 'Done' is not a status; choose one of "
        "Unmapped, Draft, Mapped, Default Only, Not Applicable, Blocked."
    ]


def test_rules_are_checked_as_the_workbench_checks_a_save(partly_mapped, ba, workbook):
    # Given a misspelt column, a direct move naming two columns, a default of the wrong type,
    # and a mandatory attribute declared Not Applicable — plus one good edit
    ws = workbook["Mapping"]
    rows = {name: row_of(ws, "customer", name) for name in ("email", "phone", "birth_date")}
    edit(ws, ("customer", "email"), "Transformation", "LOWER(c.emial)")
    edit(ws, ("customer", "phone"), "Transformation", None)
    edit(ws, ("customer", "phone"), "Source Column(s)", "c.phone, c.email")
    edit(ws, ("customer", "birth_date"), "Default Value", "yesterday")
    edit(ws, ("customer", "first_name"), "Notes", "Fine.")
    entity_row = row_of(workbook["Entities"], "campaign")
    edit(workbook["Entities"], ("campaign",), "Filter", "m.channel_code")

    # Then every refusal is listed with its place, and nothing is applied
    assert refused(partly_mapped, ba, save(workbook)) == [
        f"Sheet Entities, row {entity_row}, column E (Filter): campaign — A filter must be a "
        "condition (e.g. c.is_test = 0). (line 1, column 1)",
        f"Sheet Mapping, row {rows['email']}, column H (Transformation): customer.email — The "
        "table crm_customer has no column 'emial'. (line 1, column 7)",
        f"Sheet Mapping, row {rows['phone']}, column G (Source Column(s)): customer.phone — A "
        "direct move names exactly one alias.column; write anything else as a transformation.",
        f"Sheet Mapping, row {rows['birth_date']}, column I (Default Value): customer.birth_date "
        "— The default 'yesterday' is not a valid date (YYYY-MM-DD).",
    ]
    assert (
        AttributeMapping.objects.get(
            engagement=partly_mapped,
            entity_mapping__entity_name="customer",
            attribute_name="first_name",
        ).notes
        == ""
    )


def test_a_long_list_of_problems_is_capped_at_200_and_a_count(partly_mapped, ba, workbook):
    # given 250 rows that name attributes the contract does not have
    ws = workbook["Mapping"]
    template = [cell.value for cell in ws[row_of(ws, "customer", "email")]]
    for number in range(250):
        ws.append([template[0], f"shoe_size_{number}", *template[2:]])

    # when the workbook is imported
    problems = refused(partly_mapped, ba, save(workbook))

    # then the first 200 problems are listed, and the rest counted in one line
    assert len(problems) == 201
    assert problems[0].endswith(
        "column B (Interface Attribute): customer.shoe_size_0 is not an attribute of the "
        "published contract."
    )
    assert problems[-1] == "… and 50 more problems."
