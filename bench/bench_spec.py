"""The Master Mapping Specification at the issue's scale: 200 entities × 100 attributes (20,000
attribute rows), every attribute mapped from a cataloged table.

Figures, measured in one run in a database of their own (created and dropped here):
- export: the real export (read the mapping, the GAP, the catalog, the change log, write every
  sheet with its styles, validations and conditional formats) against the floor — a bare openpyxl
  write-only workbook writing the same cells (values read back from the export), no styles.
  Budget 1.5x.
- informative: the share of the GAP analysis (mappings.selectors.gap.gap_items) in the export.
- re-import of the unchanged workbook (read, validate every row, diff against the mapping): under
  15 s. Its baseline is the bare read of the same workbook with openpyxl in read-only mode.
"""

from __future__ import annotations

import io
import os
import time

from bench.common import Result

ENTITIES = 200
ATTRIBUTES = 100
EXPORT_BUDGET_RATIO = 1.5
IMPORT_BUDGET_SECONDS = 15.0


def run() -> list[Result]:
    from django.db import connection

    test_name = f"bench_spec_{os.getpid()}"
    if connection.vendor == "sqlite":
        folder = os.path.dirname(connection.settings_dict["NAME"]) or "."
        test_name = os.path.join(folder, f"{test_name}.sqlite3")
    connection.settings_dict.setdefault("TEST", {})["NAME"] = test_name
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        return _measure(connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _setup():
    """A published 200×100 contract, a cataloged Mart with one table per entity, and the mapping
    prepared and filled through bulk writes with history."""
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history, bulk_update_with_history

    from bench.bench_contracts import generated_contract
    from catalog.models import CatalogColumn, CatalogTable, SourceSystem
    from contracts import services as contract_services
    from mappings.models import AttributeMapping, EntityMapping
    from mappings.services.mapping import mapping_prepare
    from tests.factories import EngagementFactory, MembershipFactory
    from workbench.choices import Role

    engagement = EngagementFactory(slug="bench-spec")
    lead = engagement.created_by
    ba = MembershipFactory(engagement=engagement, role=Role.TECH_BA).user
    layer = contract_services.contract_import(
        engagement=engagement,
        file_name="generated.yaml",
        content=generated_contract(entities=ENTITIES, attributes=ATTRIBUTES),
        acting_user=lead,
    )
    contract_services.contract_publish(layer=layer, acting_user=lead)
    source = SourceSystem.objects.create(engagement=engagement, name="Bench Mart", dialect="sqlite")
    tables = bulk_create_with_history(
        [
            CatalogTable(engagement=engagement, source=source, name=f"src_{e:03}", row_count=1000)
            for e in range(ENTITIES)
        ],
        CatalogTable,
        default_user=ba,
    )
    tables = list(CatalogTable.objects.filter(source=source).order_by("name"))
    bulk_create_with_history(
        [
            CatalogColumn(
                engagement=engagement,
                table=table,
                name=f"col_{a:03}",
                position=a,
                data_type="VARCHAR(100)",
                nullable=a % 3 != 0,
                is_primary_key=a == 0,
            )
            for table in tables
            for a in range(ATTRIBUTES)
        ],
        CatalogColumn,
        batch_size=2000,
        default_user=ba,
    )
    mapping_prepare(engagement=engagement, acting_user=ba)
    entities = list(EntityMapping.objects.filter(engagement=engagement).order_by("entity_name"))
    for e, entity in enumerate(entities):
        entity.driving_table, entity.driving_alias = f"src_{e:03}", "t"
        entity.status, entity.row_version, entity.updated_by = "mapped", 2, ba
    bulk_update_with_history(
        entities,
        EntityMapping,
        ["driving_table", "driving_alias", "status", "row_version", "updated_by"],
        default_user=ba,
    )
    table_of = {entity.pk: entity.driving_table for entity in entities}
    attributes = list(AttributeMapping.objects.filter(engagement=engagement).order_by("pk"))
    now = timezone.now()
    for i, mapping in enumerate(attributes):
        column = f"col_{i % ATTRIBUTES:03}"
        if i % 4 == 0:
            mapping.transformation = f"TRIM(t.{column})"
            mapping.edge_cases = "Leading spaces in the Mart."
        else:
            mapping.source_columns = f"t.{column}"
        mapping.lineage = [f"t.{column}"]
        mapping.lineage_tables = [table_of[mapping.entity_mapping_id]]
        mapping.status, mapping.row_version, mapping.updated_by = "mapped", 2, ba
        mapping.updated_at = now
    bulk_update_with_history(
        attributes,
        AttributeMapping,
        [
            "source_columns",
            "transformation",
            "edge_cases",
            "lineage",
            "lineage_tables",
            "status",
            "row_version",
            "updated_by",
        ],
        batch_size=2000,
        default_user=ba,
    )
    return engagement, ba


def _bare_write(sheets: list[tuple[str, list[tuple]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        ws = workbook.create_sheet(title)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _measure(connection) -> list[Result]:
    from openpyxl import load_workbook

    from exports.models import SpecImport
    from exports.services import spec as services
    from mappings.models import AttributeMapping
    from mappings.selectors.gap import gap_items

    engagement, ba = _setup()
    rows = AttributeMapping.objects.filter(engagement=engagement).count()
    assert rows == ENTITIES * ATTRIBUTES, rows

    def export() -> bytes:
        buffer = io.BytesIO()
        services.spec_export(engagement=engagement, acting_user=ba, stream=buffer)
        return buffer.getvalue()

    content = export()  # warm-up, and the cells the floor writes
    read = load_workbook(io.BytesIO(content), read_only=True)
    sheets = [(ws.title, list(ws.iter_rows(values_only=True))) for ws in read.worksheets]
    read.close()
    assert len(dict(sheets)["Mapping"]) == rows + 1

    export_seconds = _median(export)
    floor_seconds = _median(lambda: _bare_write(sheets))
    gap_seconds = _median(lambda: gap_items(engagement=engagement))

    def reimport():
        spec_import = services.spec_import_preview(
            engagement=engagement, file_name="bench.xlsx", content=content, acting_user=ba
        )
        assert spec_import.change_count == 0 and spec_import.conflict_count == 0
        SpecImport.objects.filter(pk=spec_import.pk).delete()

    def bare_read():
        workbook = load_workbook(io.BytesIO(content), read_only=True)
        for ws in workbook.worksheets:
            for _row in ws.iter_rows(values_only=True):
                pass
        workbook.close()

    import_seconds = _median(reimport, repeat=1)
    read_seconds = _median(bare_read, repeat=1)
    return [
        Result(
            name=f"spec export {ENTITIES}x{ATTRIBUTES} ({connection.vendor}, "
            f"{len(content) // 1024} KB)",
            seconds=export_seconds,
            baseline_name="bare openpyxl write-only workbook of the same cells",
            baseline_seconds=floor_seconds,
            budget_ratio=EXPORT_BUDGET_RATIO,
        ),
        Result(
            name="  of which the GAP analysis (mappings.selectors.gap.gap_items), informative",
            seconds=gap_seconds,
            baseline_name="the same floor",
            baseline_seconds=floor_seconds,
        ),
        Result(
            name=f"spec re-import unchanged {rows} rows ({connection.vendor})",
            seconds=import_seconds,
            baseline_name="bare openpyxl read-only pass over the workbook",
            baseline_seconds=read_seconds,
            budget_seconds=IMPORT_BUDGET_SECONDS,
        ),
    ]


def _median(fn, repeat: int = 3) -> float:
    import statistics

    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
