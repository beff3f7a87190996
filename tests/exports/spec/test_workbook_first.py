"""Workbook-first from a fresh engagement: the contract is published and the Mart cataloged, but
nobody opened the mapping in the browser. The Tech BA exports the workbook, fills the Entities and
Mapping sheets in a spreadsheet program (here: openpyxl) and imports it — every row applies, with
history in the BA's name. A Viewer's export lists the same rows without writing anything."""

from __future__ import annotations

import pytest

from mappings.choices import EntityStatus
from mappings.demo import DEMO_MAPPING, _is_direct
from mappings.models import AttributeMapping, EntityMapping
from tests.clirun import run

from .conftest import column_of, export_bytes, open_workbook, row_of, save

pytestmark = pytest.mark.django_db


def fill_as_a_ba(workbook) -> None:
    """Type the demo mapping into the sheets: FROM clauses first, then every rule."""
    entities, mapping = workbook["Entities"], workbook["Mapping"]
    for entity, spec in DEMO_MAPPING.items():
        row = row_of(entities, entity)
        for header, field in (
            ("Driving Table", "driving_table"),
            ("Alias", "driving_alias"),
            ("Joins", "joins"),
            ("Filter", "filter"),
            ("Frequency", "frequency"),
        ):
            if field in spec["from"]:  # the other cells keep what the export wrote
                cell = entities.cell(row=row, column=column_of(entities, header))
                cell.value = spec["from"][field]
        for attribute, (rule, default, edge_cases) in spec["attributes"].items():
            row = row_of(mapping, entity, attribute)
            rule_column = "Source Column(s)" if _is_direct(rule) else "Transformation"
            mapping.cell(row=row, column=column_of(mapping, rule_column)).value = rule
            mapping.cell(row=row, column=column_of(mapping, "Default Value")).value = default
            mapping.cell(row=row, column=column_of(mapping, "Edge Cases")).value = edge_cases


def assert_demo_mapping_applied(engagement, user) -> None:
    entities = {e.entity_name: e for e in EntityMapping.objects.filter(engagement=engagement)}
    for entity, spec in DEMO_MAPPING.items():
        saved = entities[entity]
        for field in ("driving_table", "driving_alias", "joins", "filter"):
            assert getattr(saved, field) == spec["from"].get(field, ""), (entity, field)
        assert saved.frequency == spec["from"].get("frequency", "daily")
        # An entity whose attributes are all mapped is Mapped; one with some left is in progress
        statuses = set(saved.attributes.values_list("status", flat=True))
        done = statuses <= {"mapped", "default_only", "not_applicable"}
        assert saved.status == (EntityStatus.MAPPED if done else EntityStatus.DRAFT), entity
        assert saved.history.earliest().history_user == user
        assert saved.history.latest().history_user == user
        for attribute, (rule, default, edge_cases) in spec["attributes"].items():
            mapping = AttributeMapping.objects.get(entity_mapping=saved, attribute_name=attribute)
            written = mapping.source_columns if _is_direct(rule) else mapping.transformation
            assert (written, mapping.default_value, mapping.edge_cases) == (
                rule,
                default,
                edge_cases,
            ), f"{entity}.{attribute}"
            assert mapping.history.earliest().history_user == user
            assert mapping.history.latest().history_user == user


def test_a_ba_exports_fills_and_imports_a_fresh_engagement_from_the_command_line(
    published, cataloged, engagement, ba, tmp_path
):
    target = tmp_path / "spec.xlsx"
    assert not EntityMapping.objects.filter(engagement=engagement).exists()

    run("export_spec", "--engagement", "acme-360", "--as", "ba", "-o", str(target))
    workbook = open_workbook(target.read_bytes())
    listed = [c.value for c in workbook["Entities"]["A"][1:]]
    assert set(DEMO_MAPPING) <= set(listed)
    fill_as_a_ba(workbook)
    workbook.save(target)
    output = run("import_spec", "--engagement", "acme-360", "--as", "ba", str(target))

    assert output.endswith("(0 conflicts refused)\n")
    assert "has no mapping row" not in output
    assert_demo_mapping_applied(engagement, ba)


def test_a_viewers_export_lists_the_contract_and_writes_nothing_then_a_ba_imports_it(
    published, cataloged, engagement, ba, viewer
):
    content = export_bytes(engagement, viewer)

    assert not EntityMapping.objects.filter(engagement=engagement).exists()
    assert not AttributeMapping.objects.filter(engagement=engagement).exists()
    workbook = open_workbook(content)
    mapping = workbook["Mapping"]
    customer_email = row_of(mapping, "customer", "email")
    assert mapping.cell(row=customer_email, column=column_of(mapping, "Row Version")).value == 1
    assert mapping.cell(row=customer_email, column=column_of(mapping, "Status")).value == (
        "Unmapped"
    )
    entities = workbook["Entities"]
    frequency = entities.cell(
        row=row_of(entities, "customer"), column=column_of(entities, "Frequency")
    )
    assert frequency.value == "daily"

    fill_as_a_ba(workbook)
    from exports.services import spec as services

    spec_import = services.spec_import_preview(
        engagement=engagement, file_name="spec.xlsx", content=save(workbook), acting_user=ba
    )
    applied = services.spec_import_apply(spec_import=spec_import, acting_user=ba)

    assert applied.refused_count == 0
    assert_demo_mapping_applied(engagement, ba)


def test_the_entities_sheet_offers_drop_downs_for_status_and_frequency(
    published, engagement, viewer
):
    entities = open_workbook(export_bytes(engagement, viewer))["Entities"]

    lists = {
        validation.errorTitle: (validation.formula1, validation.errorStyle, str(validation.sqref))
        for validation in entities.data_validations.dataValidation
    }
    rows = entities.max_row
    assert lists["Status"] == ('"Unmapped,Draft,Mapped,Blocked"', "stop", f"K2:K{rows}")
    # the load strategy is one of the three the ETL renders (blank: merge on the key)
    assert lists["Load Strategy"] == (
        '"Full refresh,Merge on key,Append by watermark"',
        "stop",
        f"H2:H{rows}",
    )
    # Frequency also takes a cron schedule: the list suggests, a warning lets other values stand.
    assert lists["Frequency"] == (
        '"hourly,daily,weekly,monthly,on demand"',
        "warning",
        f"G2:G{rows}",
    )


def test_a_refused_import_of_a_fresh_engagement_saves_no_mapping_row(
    published, cataloged, engagement, ba, viewer
):
    from django.core.exceptions import ValidationError

    from exports.services import spec as services

    workbook = open_workbook(export_bytes(engagement, viewer))
    entities = workbook["Entities"]
    entities.cell(
        row=row_of(entities, "customer"), column=column_of(entities, "Driving Table")
    ).value = "no_such_table"

    with pytest.raises(ValidationError, match="no_such_table"):
        services.spec_import_preview(
            engagement=engagement, file_name="spec.xlsx", content=save(workbook), acting_user=ba
        )

    assert not EntityMapping.objects.filter(engagement=engagement).exists()
