"""The Master Mapping Specification workbook at 20,000 and 100,000 attribute mappings.

Two engagements that look like real ones (issue 18), built once in a scratch database: a
published contract of ENTITIES × 100 attributes, a cataloged and profiled Mart with one table per
entity, the mapping filled (most rows mapped, some unmapped mandatory, some not feasible or
blocked), open questions in comments, the mapping gate approved as spec version 1, then edits
after the approval so the Change Log has rows.

Figures, each beside its floor in the same run (timed_pair: A B A B, the median pair):
- export at 100k through the `spec_export` service vs a bare openpyxl write-only workbook of
  the same cells (the values read back from the export, no styles); budget 1.5x.
- import at 100k through `spec_import_preview` (then cancelled, as `import_spec --dry-run`) of
  the exported workbook with edits, vs a bare read-only read of the sheets the import reads
  (Cover, Entities, Mapping) with openpyxl as it is; budget 1.5x. The import reads the Entities
  and Mapping sheets with its own parser (lxml, plain text cells taken as they are), about twice
  as fast as openpyxl's: the informative line beside it is that reader alone vs the same floor,
  so the import's own work (compare, dry run) is the difference of the two figures.
- peak memory (growth of a fresh process, DEBUG off as in production; median of 3 runs) of the
  export (to a file, as `export_spec` writes it) and of the import at 100k vs 20k; budget 1.2x.
- informative: the Change Log sheet's time per row vs the Mapping sheet's, each written alone
  into a write-only workbook with the workbook's own code (its reads included).
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import Result, keep_contract_file, scratch_database, timed_pair

ATTRIBUTES = 100
# Entities: 20,000 and 100,000 attribute mappings (BENCH_SPEC_SMALL / _LARGE change them for a try).
SMALL = int(os.environ.get("BENCH_SPEC_SMALL", "200"))
LARGE = int(os.environ.get("BENCH_SPEC_LARGE", "1000"))
REPEAT = 3
EDITS = 100  # mapping rows the BA edits in the workbook before re-importing it
TIME_BUDGET_RATIO = 1.5
MEMORY_BUDGET_RATIO = 1.2
EDITED_AFTER_APPROVAL = 10  # one attribute mapping in ten is edited after the approval


@dataclass(eq=False)  # hashable by identity: keys the workbook files
class World:
    engagement: object
    ba: object
    rows: int


def run() -> list[Result]:
    with scratch_database("bench_spec"):
        started = time.perf_counter()
        small = _build_world("bench-spec-20k", SMALL)
        large = _build_world("bench-spec-100k", LARGE)
        print(f"  (worlds built in {time.perf_counter() - started:.0f} s)", flush=True)
        return _measure(small, large)


# --- the worlds ----------------------------------------------------------------------------------


def _build_world(slug: str, entities: int) -> World:
    from django.contrib.auth import get_user_model
    from simple_history.utils import bulk_update_with_history

    from contracts.choices import LayerStatus
    from contracts.models import InterfaceLayer
    from mappings.models import AttributeMapping, EntityMapping
    from signoff import services as signoff_services
    from signoff.choices import Gate
    from workbench.choices import Role, SignoffGate
    from workbench.history import save_with_history
    from workbench.models import Engagement, Membership, SignoffOwner

    User = get_user_model()
    ba = User.objects.create_user(f"{slug}-ba", first_name="Bench", last_name="Analyst")
    sme = User.objects.create_user(f"{slug}-sme", first_name="Bench", last_name="Approver")
    engagement = Engagement.objects.create(slug=slug, name=f"Bench {slug}", created_by=ba)
    Membership.objects.create(engagement=engagement, user=ba, role=Role.TECH_BA)
    Membership.objects.create(engagement=engagement, user=sme, role=Role.CLIENT_SME)
    SignoffOwner.objects.create(engagement=engagement, gate=SignoffGate.MAPPING, user=sme)
    layer = InterfaceLayer(
        engagement=engagement,
        name="Customer 360",
        version="1.0.0",
        status=LayerStatus.PUBLISHED,
        source_file_name="c360.yaml",
        source_format="odcs",
        file_hash="0" * 64,
        imported_by=ba,
        published_by=ba,
    )
    save_with_history(layer, acting_user=ba, validate=False)
    keep_contract_file(layer_id=layer.pk, entities=entities, attributes=ATTRIBUTES)
    _contract(layer, entities, ba)
    _catalog(engagement, entities, ba)
    _mapping(engagement, entities, ba)
    _comments(engagement, ba)
    review = signoff_services.do_submit_for_review(
        engagement=engagement, gate=Gate.MAPPING, acting_user=ba
    )
    signoff_services.do_decide(review=review, verdict="approve", acting_user=sme)
    # Work goes on after the approval: the Change Log lists these edits.
    edited = list(
        AttributeMapping.objects.filter(engagement=engagement).order_by("pk")[
            ::EDITED_AFTER_APPROVAL
        ]
    )
    for i, mapping in enumerate(edited):
        mapping.notes = f"Checked with the client on call {i}."
        mapping.sme_review = "agreed" if i % 2 else "query_raised"
        mapping.row_version += 1
    bulk_update_with_history(
        edited,
        AttributeMapping,
        ["notes", "sme_review", "row_version"],
        batch_size=5000,
        default_user=sme,
    )
    entity_rows = list(EntityMapping.objects.filter(engagement=engagement).order_by("pk")[::20])
    for entity in entity_rows:
        entity.notes, entity.row_version = "Load window agreed.", entity.row_version + 1
    bulk_update_with_history(entity_rows, EntityMapping, ["notes", "row_version"], default_user=ba)
    return World(engagement, ba, entities * ATTRIBUTES)


def _contract(layer, entities: int, user) -> None:
    from contracts.models import InterfaceAttribute, InterfaceEntity
    from workbench.history import fast_bulk_insert_with_history

    types = [("string", "VARCHAR(100)"), ("integer", "INTEGER"), ("number", "DECIMAL(12,2)")]
    types += [("date", "DATE"), ("timestamp", "TIMESTAMP")]
    entity_ids = fast_bulk_insert_with_history(
        InterfaceEntity,
        [
            {
                "layer_id": layer.pk,
                "name": f"entity_{e:04}",
                "description": f"Entity {e} of the 360 model.",
                "position": e,
            }
            for e in range(entities)
        ],
        acting_user=user,
    )
    rows = []
    for e, entity_id in enumerate(entity_ids):
        for a in range(ATTRIBUTES):
            logical, physical = types[a % 5]
            rows.append(
                {
                    "layer_id": layer.pk,
                    "entity_id": entity_id,
                    "name": f"attr_{a:03}",
                    "position": a,
                    "description": f"Attribute {a} of entity {e}.",
                    "logical_type": logical,
                    "physical_type": physical,
                    "required": a % 3 == 0,
                    "primary_key": a == 0,
                    "canonical_meaning": f"Canonical meaning of attribute {a}.",
                    "allowed_values": ["A", "B", "C"] if a % 25 == 7 else [],
                }
            )
    fast_bulk_insert_with_history(InterfaceAttribute, rows, acting_user=user)


def _catalog(engagement, entities: int, user) -> None:
    from django.utils import timezone

    from catalog.models import CatalogColumn, CatalogTable, ColumnProfile, SourceSystem
    from workbench.history import fast_bulk_insert_with_history

    source = SourceSystem.objects.create(engagement=engagement, name="Mart", dialect="postgres")
    table_ids = fast_bulk_insert_with_history(
        CatalogTable,
        [
            {
                "engagement_id": engagement.pk,
                "source_id": source.pk,
                "schema": "mart",
                "name": f"src_{e:04}",
                "row_count": 250_000,
            }
            for e in range(entities)
        ],
        acting_user=user,
    )
    column_ids = fast_bulk_insert_with_history(
        CatalogColumn,
        [
            {
                "engagement_id": engagement.pk,
                "table_id": table_id,
                "name": f"col_{a:03}",
                "position": a,
                "data_type": "VARCHAR(100)" if a % 5 == 0 else "VARCHAR(40)",
                "nullable": a % 3 != 0 or a % 9 == 0,
                "is_primary_key": a == 0,
            }
            for table_id in table_ids
            for a in range(ATTRIBUTES)
        ],
        acting_user=user,
    )
    now = timezone.now()
    fast_bulk_insert_with_history(
        ColumnProfile,
        [
            {
                "engagement_id": engagement.pk,
                "column_id": column_id,
                "taken_at": now,
                "sample_rows": 250_000,
                "null_count": i % 7 * 1000,
                "null_percent": i % 7 * 0.4,
                "distinct_count": 250_000 - i % 1000,
                "min_value": "A",
                "max_value": "Z",
                "top_values": [{"value": "A", "count": 10}],
            }
            for i, column_id in enumerate(column_ids)
        ],
        acting_user=user,
    )


def _mapping(engagement, entities: int, user) -> None:
    """Most rows mapped (a quarter through a transformation), a few mandatory ones unmapped,
    some not feasible or blocked: the GAP has open items."""
    from django.utils import timezone

    from mappings.models import AttributeMapping, EntityMapping
    from workbench.history import fast_bulk_insert_with_history

    entity_ids = fast_bulk_insert_with_history(
        EntityMapping,
        [
            {
                "engagement_id": engagement.pk,
                "entity_name": f"entity_{e:04}",
                "driving_table": f"mart.src_{e:04}",
                "driving_alias": "t",
                "frequency": "daily",
                "status": "mapped",
                "updated_by_id": user.pk,
            }
            for e in range(entities)
        ],
        acting_user=user,
    )
    now = timezone.now()
    rows = []
    for e, entity_id in enumerate(entity_ids):
        table = f"mart.src_{e:04}"
        for a in range(ATTRIBUTES):
            column = f"col_{a:03}"
            row = {
                "engagement_id": engagement.pk,
                "entity_mapping_id": entity_id,
                "attribute_name": f"attr_{a:03}",
                "status": "mapped",
                "lineage": [f"t.{column}"],
                "lineage_tables": [table],
                "feasibility": "feasible",
                "updated_by_id": user.pk,
                "updated_at": now,
            }
            if a % 4 == 1:
                row["transformation"] = f"TRIM(t.{column})"
                row["edge_cases"] = "Leading spaces in the Mart."
            else:
                row["source_columns"] = f"t.{column}"
            if a % 50 == 3:  # a mandatory attribute nobody could map yet
                row.update(status="unmapped", source_columns="", lineage=[], lineage_tables=[])
                row.pop("transformation", None)
            elif a % 50 == 11:
                row.update(status="blocked", feasibility="not_feasible")
                row["feasibility_comment"] = "The Mart has no such value."
            rows.append(row)
    fast_bulk_insert_with_history(AttributeMapping, rows, acting_user=user)


def _comments(engagement, user) -> None:
    from mappings.models import AttributeMapping, MappingComment
    from workbench.history import fast_bulk_insert_with_history

    asked = AttributeMapping.objects.filter(engagement=engagement).order_by("pk")[::200]
    fast_bulk_insert_with_history(
        MappingComment,
        [
            {
                "engagement_id": engagement.pk,
                "entity_mapping_id": m.entity_mapping_id,
                "attribute_mapping_id": m.pk,
                "kind": "question",
                "text": "Which source holds the customer's preferred channel?",
                "author_id": user.pk,
            }
            for m in asked
        ],
        acting_user=user,
    )


# --- the figures ---------------------------------------------------------------------------------


def _export(world: World) -> bytes:
    from exports.services.spec import spec_export

    buffer = io.BytesIO()
    spec_export(engagement=world.engagement, acting_user=world.ba, stream=buffer)
    return buffer.getvalue()


def _edited(content: bytes) -> bytes:
    """The exported workbook with a BA's edits: notes on EDITS mapping rows, spread evenly."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content))
    ws = workbook["Mapping"]
    notes = ws["1"].index(next(c for c in ws["1"] if c.value == "Notes")) + 1
    for row in range(2, ws.max_row + 1, max((ws.max_row - 1) // EDITS, 1))[:EDITS]:
        ws.cell(row=row, column=notes, value=f"Edited in the workbook, row {row}.")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _import(world: World, content: bytes) -> int:
    from exports.services.spec import spec_import_cancel, spec_import_preview

    spec_import = spec_import_preview(
        engagement=world.engagement, file_name="edited.xlsx", content=content, acting_user=world.ba
    )
    spec_import_cancel(spec_import=spec_import, acting_user=world.ba)
    return spec_import.change_count


IMPORTED_SHEETS = ("Cover", "Entities", "Mapping")


def _bare_read(content: bytes) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    count = 0
    for title in IMPORTED_SHEETS:
        for _row in workbook[title].iter_rows(values_only=True):
            count += 1
    workbook.close()
    return count


def _our_read(content: bytes) -> int:
    """The import's reader alone: every row of the three sheets, nothing compared."""
    from exports.spec.reader import open_spec

    with open_spec(content) as parsed:
        count = sum(1 for _row in parsed.entities) + sum(1 for _row in parsed.mappings)
        parsed.finish()
    return count


def _sheets(content: bytes) -> list[tuple[str, list[tuple]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    sheets = [(ws.title, list(ws.iter_rows(values_only=True))) for ws in workbook.worksheets]
    workbook.close()
    return sheets


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


def _sheet_seconds_per_row(world: World) -> tuple[float, float, int, int]:
    """Seconds per row of the Mapping sheet and of the Change Log sheet, each written alone."""
    from openpyxl import Workbook

    from exports.spec import workbook as spec_workbook

    def written(write) -> int:
        workbook = Workbook(write_only=True)
        rows = write(workbook, world.engagement)
        for ws in workbook.worksheets:
            ws.close()  # the sheet's XML finished, as a save does
        return rows

    def mapping() -> int:
        return written(spec_workbook.write_mapping_sheet)

    def change_log() -> int:
        return written(spec_workbook.write_change_log_sheet)

    mapping_rows, log_rows = mapping(), change_log()
    mapping_seconds, log_seconds = timed_pair(mapping, change_log, repeat=3)
    return mapping_seconds / mapping_rows, log_seconds / log_rows, mapping_rows, log_rows


def _measure(small: World, large: World) -> list[Result]:
    from django.db import connection

    vendor = connection.vendor
    content = _export(large)  # warm-up; the cells the floor writes
    sheets = _sheets(content)
    assert len(dict(sheets)["Mapping"]) == large.rows + 1
    export_seconds, write_seconds = timed_pair(
        lambda: _export(large), lambda: _bare_write(sheets), repeat=REPEAT
    )
    sheets.clear()  # the parent need not hold them any longer
    edited = _edited(content)
    changes = _import(large, edited)
    assert changes == EDITS, changes
    import_seconds, read_seconds = timed_pair(
        lambda: _import(large, edited), lambda: _bare_read(edited), repeat=REPEAT
    )
    reader_seconds, reader_floor = timed_pair(
        lambda: _our_read(edited), lambda: _bare_read(edited), repeat=REPEAT
    )
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for world, workbook in ((small, _edited(_export(small))), (large, edited)):
            files[world] = Path(folder, f"{world.engagement.slug}.xlsx")
            files[world].write_bytes(workbook)
        export_memory = _fresh_peaks_mib("export", small, large)
        import_memory = _fresh_peaks_mib("import", small, large, files)
    mapping_per_row, log_per_row, mapping_rows, log_rows = _sheet_seconds_per_row(large)
    size = f"{large.rows:,} attribute mappings"
    return [
        Result(
            f"spec export of {size} ({vendor}, {len(content) // 1024:,} KB)",
            export_seconds,
            "bare openpyxl write-only workbook of the same cells",
            write_seconds,
            budget_ratio=TIME_BUDGET_RATIO,
        ),
        Result(
            f"spec import preview of {size} with {changes:,} edits ({vendor})",
            import_seconds,
            "bare read-only read of Cover, Entities and Mapping",
            read_seconds,
            budget_ratio=TIME_BUDGET_RATIO,
        ),
        Result(
            "  the import's own reader of those sheets alone, informative",
            reader_seconds,
            "bare read-only read of Cover, Entities and Mapping",
            reader_floor,
        ),
        Result(
            f"spec export peak memory at {large.rows:,} rows (fresh process)",
            export_memory[1],
            f"at {small.rows:,} rows",
            export_memory[0],
            budget_ratio=MEMORY_BUDGET_RATIO,
            unit="MiB",
        ),
        Result(
            f"spec import preview peak memory at {large.rows:,} rows (fresh process)",
            import_memory[1],
            f"at {small.rows:,} rows",
            import_memory[0],
            budget_ratio=MEMORY_BUDGET_RATIO,
            unit="MiB",
        ),
        Result(
            f"  Change Log sheet per row ({log_rows:,} rows), informative",
            log_per_row * 1000,
            f"Mapping sheet per row ({mapping_rows:,} rows)",
            mapping_per_row * 1000,
            unit="ms",
        ),
    ]


# --- memory, measured in a fresh process ------------------------------------------------------------
# peak_memory_mib forks this process, whose heap already holds the free space left by building the
# worlds and by the timed runs: the child fills that space first and its peak RSS hardly moves (it
# printed 7 MiB for a 20k export). A fresh interpreter, warmed up on the same imports, pays for
# every byte the work holds.


def _database_url() -> str:
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = f"{settings.get('HOST') or '127.0.0.1'}:{settings.get('PORT') or 5432}"
    return f"postgres://{settings['USER']}{password}@{host}/{settings['NAME']}"


MEMORY_REPEAT = 3


def _fresh_peaks_mib(
    action: str, small: World, large: World, files: dict | None = None
) -> tuple[float, float]:
    """Median peaks of `action` at both scales, measured alternately (small, large, …): a
    process's peak moves by a MiB or so from one run to the next."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(MEMORY_REPEAT):
        for world, out in ((small, samples[0]), (large, samples[1])):
            path = files[world] if files else None
            out.append(_fresh_peak_mib(action, world.engagement.slug, path))
    return statistics.median(samples[0]), statistics.median(samples[1])


def _fresh_peak_mib(action: str, slug: str, path: Path | None = None) -> float:
    """The growth of a fresh process's peak RSS while it exports or previews `slug`."""
    env = dict(os.environ, DATABASE_URL=_database_url())
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_spec", action, slug, str(path or "")],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"the {action} child failed: {done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def _child(action: str, slug: str, path: str) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    # As production runs (DEBUG off): a development server's log of every query's SQL is not the
    # export's memory.
    settings.DEBUG = False

    import exports.services.spec  # noqa: F401  (imported before the measure starts)
    from bench.common import _status_kib
    from workbench.models import Engagement

    engagement = Engagement.objects.get(slug=slug)
    world = World(engagement, get_user_model().objects.get(username=f"{slug}-ba"), 0)
    content = Path(path).read_bytes() if path else b""
    _bare_read(_edited_tiny())  # openpyxl's reader and writer loaded
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the peak restarts from here
    start = _status_kib("VmRSS")
    if action == "export":
        # To a file, as `export_spec` and the export job write it: the workbook's bytes are the
        # file's, not the process's (as the import's upload is read before the peak restarts).
        from exports.services.spec import spec_export

        with tempfile.TemporaryDirectory() as folder:
            spec_export(
                engagement=world.engagement,
                acting_user=world.ba,
                stream=str(Path(folder, "spec.xlsx")),
            )
    else:
        _import(world, content)
    print((_status_kib("VmHWM") - start) / 1024)


def _edited_tiny() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title in IMPORTED_SHEETS:
        workbook.create_sheet(title).append([title])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


if __name__ == "__main__":
    _child(*sys.argv[1:4])
