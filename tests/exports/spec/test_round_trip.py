"""Export → edit in a spreadsheet → import: the preview shows exactly the edits, field by field,
and accepting applies exactly them, as the importing user; an unchanged workbook changes nothing."""

from __future__ import annotations

import pytest

from exports.choices import SpecImportState
from exports.models import SpecImport
from exports.services import spec as services
from mappings import compiled as compiled_module
from mappings.compiled import CompiledEntity
from mappings.models import AttributeMapping, EntityMapping
from mappings.services import mapping as mapping_services

from .conftest import edit, export_bytes, open_workbook, save

pytestmark = pytest.mark.django_db


def attribute(engagement, entity, name) -> AttributeMapping:
    return AttributeMapping.objects.get(
        engagement=engagement, entity_mapping__entity_name=entity, attribute_name=name
    )


def history_count() -> int:
    return (
        AttributeMapping.history.model.objects.count() + EntityMapping.history.model.objects.count()
    )


def test_an_unchanged_workbook_reimports_with_zero_changes(mapped, ba):
    # Given the demo mapping, exported
    content = export_bytes(mapped, ba)
    before = history_count()

    # When the same workbook is imported back
    spec_import = services.spec_import_preview(
        engagement=mapped, file_name="spec.xlsx", content=content, acting_user=ba
    )

    # Then nothing changes: no changes, no conflicts, no notices
    assert spec_import.preview["changes"] == []
    assert spec_import.preview["conflicts"] == []
    assert spec_import.preview["notices"] == []
    assert (
        spec_import.preview["rows"]
        == 5 + AttributeMapping.objects.filter(engagement=mapped).count()
    )
    applied = services.spec_import_apply(spec_import=spec_import, acting_user=ba)
    assert (applied.applied_count, applied.refused_count) == (0, 0)
    assert history_count() == before


def test_edits_made_in_a_spreadsheet_are_previewed_field_by_field_then_applied_exactly(
    mapped, ba, lead
):
    # Given the exported workbook, edited offline: a rule, a default, edge cases, an entity note
    workbook = open_workbook(export_bytes(mapped, ba))
    mapping, entities = workbook["Mapping"], workbook["Entities"]
    edit(mapping, ("customer", "email"), "Transformation", "LOWER(c.email)")
    edit(mapping, ("campaign", "name"), "Default Value", "Unnamed campaign")
    edit(mapping, ("campaign", "name"), "Edge Cases", "Old campaigns have no name.")
    edit(entities, ("campaign",), "Notes", "Campaigns of every brand.\nLoaded daily.")
    email = attribute(mapped, "customer", "email")
    name = attribute(mapped, "campaign", "name")
    untouched = {
        m.pk: m.row_version
        for m in AttributeMapping.objects.filter(engagement=mapped).exclude(
            pk__in=[email.pk, name.pk]
        )
    }

    # When the BA imports it
    spec_import = services.spec_import_preview(
        engagement=mapped, file_name="edited.xlsx", content=save(workbook), acting_user=ba
    )

    # Then the preview lists the three rows, field by field, before and after
    changes = {c["key"]: c for c in spec_import.preview["changes"]}
    assert set(changes) == {"campaign", "customer.email", "campaign.name"}
    assert changes["customer.email"]["fields"] == [
        {"column": "Transformation", "before": "LOWER(TRIM(c.email))", "after": "LOWER(c.email)"}
    ]
    assert changes["campaign.name"]["fields"] == [
        {"column": "Default Value", "before": "", "after": "Unnamed campaign"},
        {"column": "Edge Cases", "before": "", "after": "Old campaigns have no name."},
    ]
    assert changes["campaign"]["fields"] == [
        {"column": "Notes", "before": "", "after": "Campaigns of every brand.\nLoaded daily."}
    ]
    assert changes["customer.email"]["sheet"] == "Mapping"
    assert spec_import.state == SpecImportState.PREVIEWED
    # … and nothing is applied yet
    email.refresh_from_db()
    assert email.transformation == "LOWER(TRIM(c.email))"

    # When the BA accepts
    applied = services.spec_import_apply(spec_import=spec_import, acting_user=ba)

    # Then exactly the edits are applied, recorded in history as the BA
    assert (applied.applied_count, applied.refused_count) == (3, 0)
    email.refresh_from_db()
    name.refresh_from_db()
    assert email.transformation == "LOWER(c.email)"
    assert (name.default_value, name.edge_cases) == (
        "Unnamed campaign",
        "Old campaigns have no name.",
    )
    assert name.status == "mapped"
    campaign = EntityMapping.objects.get(engagement=mapped, entity_name="campaign")
    assert campaign.notes == "Campaigns of every brand.\nLoaded daily."
    assert email.history.first().history_user == ba
    assert email.history.first().transformation == "LOWER(c.email)"
    assert campaign.history.first().history_user == ba
    assert {
        m.pk: m.row_version
        for m in AttributeMapping.objects.filter(engagement=mapped).exclude(
            pk__in=[email.pk, name.pk]
        )
    } == untouched
    # And a second import of the same file is refused: the preview was decided
    assert applied.state == SpecImportState.APPLIED
    assert applied.decided_by == ba


def test_a_new_filter_and_a_rule_edited_in_the_same_workbook_both_apply(mapped, ba):
    # Given a workbook where the campaign gets a filter and its name a new rule
    workbook = open_workbook(export_bytes(mapped, ba))
    edit(workbook["Entities"], ("campaign",), "Filter", "m.campaign_code IS NOT NULL")
    edit(workbook["Mapping"], ("campaign", "name"), "Transformation", "TRIM(m.campaign_name)")

    # When it is imported and accepted (the filter re-checks the entity's rules first)
    spec_import = services.spec_import_preview(
        engagement=mapped, file_name="e.xlsx", content=save(workbook), acting_user=ba
    )
    applied = services.spec_import_apply(spec_import=spec_import, acting_user=ba)

    # Then both are applied, none refused
    assert (applied.applied_count, applied.refused_count) == (2, 0)
    assert attribute(mapped, "campaign", "name").transformation == "TRIM(m.campaign_name)"
    assert EntityMapping.objects.get(engagement=mapped, entity_name="campaign").filter == (
        "m.campaign_code IS NOT NULL"
    )


def test_a_row_changed_in_the_app_since_the_export_is_a_conflict_never_overwritten(
    mapped, ba, lead
):
    # Given a workbook where the BA rewrote customer.email and phone offline
    workbook = open_workbook(export_bytes(mapped, ba))
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")
    edit(workbook["Mapping"], ("customer", "phone"), "Edge Cases", "Keep as typed.")
    # … while a colleague changed customer.email in the workbench, and first_name too
    email = attribute(mapped, "customer", "email")
    mapping_services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "UPPER(TRIM(c.email))"}, acting_user=ba
    )
    first_name = attribute(mapped, "customer", "first_name")
    mapping_services.attribute_mapping_update(
        attribute_mapping=first_name, data={"notes": "Checked with the SME."}, acting_user=ba
    )
    email.refresh_from_db()

    # When the workbook is imported
    spec_import = services.spec_import_preview(
        engagement=mapped, file_name="stale.xlsx", content=save(workbook), acting_user=ba
    )

    # Then customer.email is a conflict shown side by side: exported, workbook, now
    (conflict,) = spec_import.preview["conflicts"]
    assert conflict["key"] == "customer.email"
    assert (conflict["row_version"], conflict["current_version"]) == (
        email.row_version - 1,
        email.row_version,
    )
    assert conflict["fields"] == [
        {
            "column": "Transformation",
            "exported": "LOWER(TRIM(c.email))",
            "workbook": "LOWER(c.email)",
            "current": "UPPER(TRIM(c.email))",
        }
    ]
    # … first_name, untouched in the workbook, is not a change: the app's note stays
    assert [c["key"] for c in spec_import.preview["changes"]] == ["customer.phone"]
    assert spec_import.preview["notices"] == [
        f"Sheet Mapping, row {_row(workbook, 'first_name')}: customer.first_name was changed in "
        "the workbench since the export and not in the workbook; the workbench's values stay."
    ]

    # When it is accepted
    applied = services.spec_import_apply(spec_import=spec_import, acting_user=ba)

    # Then the phone edit is applied, the conflict refused and the app's value kept
    assert (applied.applied_count, applied.refused_count) == (1, 1)
    email.refresh_from_db()
    assert email.transformation == "UPPER(TRIM(c.email))"
    assert attribute(mapped, "customer", "first_name").notes == "Checked with the SME."
    assert attribute(mapped, "customer", "phone").edge_cases == "Keep as typed."


def _row(workbook, attribute_name) -> int:
    from .conftest import row_of

    return row_of(workbook["Mapping"], "customer", attribute_name)


def test_a_change_made_between_preview_and_accept_is_refused_as_a_conflict(mapped, ba):
    workbook = open_workbook(export_bytes(mapped, ba))
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")
    spec_import = services.spec_import_preview(
        engagement=mapped, file_name="e.xlsx", content=save(workbook), acting_user=ba
    )
    email = attribute(mapped, "customer", "email")
    mapping_services.attribute_mapping_update(
        attribute_mapping=email, data={"notes": "Meanwhile."}, acting_user=ba
    )

    applied = services.spec_import_apply(spec_import=spec_import, acting_user=ba)

    assert (applied.applied_count, applied.refused_count) == (0, 1)
    assert applied.preview["refused_at_apply"] == ["customer.email"]
    assert attribute(mapped, "customer", "email").transformation == "LOWER(TRIM(c.email))"


def test_edits_to_informative_columns_are_noted_and_not_applied(mapped, ba):
    workbook = open_workbook(export_bytes(mapped, ba))
    edit(workbook["Mapping"], ("customer", "phone"), "Feasibility", "Feasible")
    edit(workbook["Mapping"], ("customer", "phone"), "Data Type", "TEXT")

    spec_import = services.spec_import_preview(
        engagement=mapped, file_name="e.xlsx", content=save(workbook), acting_user=ba
    )

    assert spec_import.preview["changes"] == []
    row = _row(workbook, "phone")
    assert spec_import.preview["notices"] == [
        f"Sheet Mapping, row {row}, column L (Feasibility): customer.phone — the edit is not "
        "applied (feasibility verdicts are given in the workbench by the ETL Developer).",
        f"Sheet Mapping, row {row}, column C (Data Type): customer.phone — the edit is not "
        "applied (the contract is fixed).",
    ]


def test_cancelling_a_preview_applies_nothing_and_cannot_be_accepted_after(mapped, ba):
    workbook = open_workbook(export_bytes(mapped, ba))
    edit(workbook["Mapping"], ("customer", "email"), "Transformation", "LOWER(c.email)")
    spec_import = services.spec_import_preview(
        engagement=mapped, file_name="e.xlsx", content=save(workbook), acting_user=ba
    )

    services.spec_import_cancel(spec_import=spec_import, acting_user=ba)

    with pytest.raises(Exception) as refused:
        services.spec_import_apply(spec_import=spec_import, acting_user=ba)
    assert refused.value.messages == [
        "This import is already cancelled; upload the workbook again to import it."
    ]
    assert attribute(mapped, "customer", "email").transformation == "LOWER(TRIM(c.email))"
    assert SpecImport.objects.get().history.first().history_user == ba


def test_a_large_workbook_is_read_in_chunks_and_only_its_edited_row_is_checked(
    mapped, ba, monkeypatch
):
    from exports.selectors import spec as spec_selectors
    from exports.spec import diff as spec_diff

    # Given sheets written and read a few rows at a time, as a workbook of 100,000 rows is
    monkeypatch.setattr(spec_selectors, "CHUNK_ATTRIBUTES", 4)
    monkeypatch.setattr(spec_diff, "CHUNK_ROWS", 3)
    workbook = open_workbook(export_bytes(mapped, ba))
    mapping = workbook["Mapping"]
    # every contract attribute is on the Mapping sheet once, with its stored Row Version
    stored = {
        (m.entity_mapping.entity_name, m.attribute_name): m.row_version
        for m in AttributeMapping.objects.filter(engagement=mapped).select_related("entity_mapping")
    }
    exported = [row[:2] + row[-1:] for row in mapping.iter_rows(min_row=2, values_only=True)]
    assert sorted(exported) == sorted((*key, version) for key, version in stored.items())
    # the BA sorts the rows the other way round and edits one note
    rows = list(mapping.iter_rows(min_row=2, values_only=True))
    for number, values in enumerate(reversed(rows), start=2):
        for column, value in enumerate(values, start=1):
            mapping.cell(row=number, column=column).value = value
    edit(mapping, ("customer", "email"), "Notes", "Confirmed with the SME.")
    other = (
        AttributeMapping.objects.filter(engagement=mapped, entity_mapping__entity_name="customer")
        .exclude(attribute_name="email")
        .earliest("pk")
    )
    edit(mapping, ("customer", other.attribute_name), "Notes", "Also confirmed.")
    checked, compiled = [], []
    compile_rule = CompiledEntity.compile_rule
    monkeypatch.setattr(
        CompiledEntity,
        "compile_rule",
        lambda self, **kwargs: (
            checked.append(kwargs["attribute_name"]) or compile_rule(self, **kwargs)
        ),
    )
    compile_entity = compiled_module.compile_entity
    monkeypatch.setattr(
        compiled_module,
        "compile_entity",
        lambda **kwargs: (
            compiled.append(kwargs["entity_mapping"].entity_name) or compile_entity(**kwargs)
        ),
    )

    # When the workbook is imported
    spec_import = services.spec_import_preview(
        engagement=mapped, file_name="sorted.xlsx", content=save(workbook), acting_user=ba
    )

    # Then the preview holds exactly the edits, and only those rows' rules were checked
    assert sorted((c["key"], c["data"]) for c in spec_import.preview["changes"]) == sorted(
        [
            ("customer.email", {"notes": "Confirmed with the SME."}),
            (f"customer.{other.attribute_name}", {"notes": "Also confirmed."}),
        ]
    )
    assert spec_import.preview["conflicts"] == []
    assert sorted(checked) == sorted(["email", other.attribute_name])
    # … against their entity, compiled once for both (the edited rows' entities at once)
    assert compiled == ["customer"]
