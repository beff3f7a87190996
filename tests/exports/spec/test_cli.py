"""`export_spec` and `import_spec`: the round trip from the command line, `--dry-run`, the
summary line, and a non-zero exit with a one-line reason when a row is refused."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from mappings.models import AttributeMapping
from mappings.services import mapping as mapping_services
from tests.clirun import run

from .conftest import edit, open_workbook

pytestmark = pytest.mark.django_db


def email(engagement) -> AttributeMapping:
    return AttributeMapping.objects.get(
        engagement=engagement, entity_mapping__entity_name="customer", attribute_name="email"
    )


def test_export_then_import_unchanged_applies_nothing(mapped, ba, tmp_path):
    target = tmp_path / "spec.xlsx"

    exported = run("export_spec", "--engagement", "acme-360", "--as", "ba", "-o", str(target))
    imported = run("import_spec", "--engagement", "acme-360", "--as", "ba", str(target))

    assert exported.startswith("exported the specification of acme-360 (Marketing 360 1.0.0, hash ")
    assert imported == "applied 0 changes (0 conflicts refused)\n"


def test_dry_run_prints_the_diff_and_changes_nothing(mapped, ba, tmp_path):
    target = tmp_path / "spec.xlsx"
    run("export_spec", "--engagement", "acme-360", "--as", "ba", "-o", str(target))
    workbook = open_workbook(target.read_bytes())
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")
    workbook.save(target)

    output = run("import_spec", "--engagement", "acme-360", "--as", "ba", "--dry-run", str(target))

    row = [c.row for c in workbook["Mapping"]["B"] if c.value == "email"][0]
    assert output == (
        f"~ Mapping row {row}: customer.email\n"
        "    Transformation: 'LOWER(TRIM(c.email))' -> 'LOWER(c.email)'\n"
        "dry run: 1 changes, 0 conflicts; nothing applied\n"
    )
    assert email(mapped).transformation == "LOWER(TRIM(c.email))"


def test_a_conflict_is_refused_and_the_command_exits_non_zero(mapped, ba, tmp_path):
    target = tmp_path / "spec.xlsx"
    run("export_spec", "--engagement", "acme-360", "--as", "ba", "-o", str(target))
    workbook = open_workbook(target.read_bytes())
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")
    edit(workbook["Mapping"], ("customer", "phone"), "Notes", "Ask the call centre.")
    workbook.save(target)
    mapping_services.attribute_mapping_update(
        attribute_mapping=email(mapped), data={"notes": "Changed meanwhile."}, acting_user=ba
    )

    import io

    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_spec", "--engagement", "acme-360", "--as", "ba", str(target), stdout=out
        )

    assert out.getvalue().splitlines()[-1] == "applied 1 changes (1 conflicts refused)"
    assert str(refused.value) == (
        "1 rows were changed in the workbench since the export and were not applied; export "
        "again, redo those edits and import."
    )
    assert email(mapped).transformation == "LOWER(TRIM(c.email))"


def test_bad_input_exits_non_zero_with_a_one_line_reason(mapped, ba, tmp_path):
    target = tmp_path / "notes.xlsx"
    target.write_text("not a workbook")

    with pytest.raises(CommandError) as refused:
        call_command("import_spec", "--engagement", "acme-360", "--as", "ba", str(target))

    assert str(refused.value) == (
        "file: This file is not an Excel workbook (.xlsx): export the specification and edit that."
    )


def test_a_viewer_may_export_but_not_import(mapped, viewer, tmp_path):
    target = tmp_path / "spec.xlsx"
    run("export_spec", "--engagement", "acme-360", "--as", "viewer", "-o", str(target))

    with pytest.raises(CommandError) as refused:
        call_command("import_spec", "--engagement", "acme-360", "--as", "viewer", str(target))

    assert (
        str(refused.value)
        == "Your role in acme-360 does not allow this (edit mapping); only a Tech BA may."
    )


def test_the_output_must_be_an_xlsx_file(mapped, ba, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command(
            "export_spec", "--engagement", "acme-360", "--as", "ba", "-o", str(tmp_path / "s.csv")
        )
    assert str(refused.value) == "Name the output FILE.xlsx, not s.csv."


def test_a_script_reads_the_import_as_json_changes_and_problems(mapped, ba, tmp_path):
    import json

    target = tmp_path / "spec.xlsx"
    run("export_spec", "--engagement", "acme-360", "--as", "ba", "-o", str(target))
    workbook = open_workbook(target.read_bytes())
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")
    workbook.save(target)

    report = json.loads(
        run(
            "import_spec", "--engagement", "acme-360", "--as", "ba", "--format", "json", str(target)
        )
    )

    assert report["applied"] == 1 and report["refused"] == 0 and report["problems"] == []
    assert [(c["key"], c["fields"]) for c in report["changes"]] == [
        (
            "customer.email",
            [
                {
                    "column": "Transformation",
                    "before": "LOWER(TRIM(c.email))",
                    "after": "LOWER(c.email)",
                }
            ],
        )
    ]
    assert email(mapped).transformation == "LOWER(c.email)"

    edit(workbook["Mapping"], ("customer", "email"), "Row Version", email(mapped).row_version)
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "nope(")
    workbook.save(target)
    out = __import__("io").StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_spec", "--engagement", "acme-360", "--as", "ba", "--format", "json",
            str(target), stdout=out,
        )  # fmt: skip
    refused = json.loads(out.getvalue())
    assert refused["applied"] == 0 and refused["changes"] == []
    assert len(refused["problems"]) == 1
    assert "customer.email" in refused["problems"][0]
    assert email(mapped).transformation == "LOWER(c.email)"
