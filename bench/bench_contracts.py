"""Contract import and export at the issue's scale: 200 entities × 100 attributes (20,000).

Import — the figure is the real import service (parse the ODCS YAML, validate, insert entities,
attributes and relationships with their history rows, one transaction); its floor, interleaved
with it, writes the same rows bare: the stored values of the imported layer, prepared beforehand,
go in with COPY (PostgreSQL) or one executemany (SQLite) per table, history rows included, and
the contract file the import keeps (one INSERT of its text). Budget 2x (issue 18).

Export — the figure is the `export_contract` command writing the 200×100 contract to a file; its
floor dumps the same document, built beforehand, with libyaml's C dumper and writes it to a file.
Budget 1.5x (issue 18).

Each runs in its own database, created and dropped here (bench.common.scratch_database).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import yaml

from bench.common import BareRows, Result, scratch_database, timed_pair

ENTITIES = 200
ATTRIBUTES = 100
IMPORT_BUDGET = 2.0
EXPORT_BUDGET = 1.5
REPEAT = 3


def generated_contract(*, entities: int, attributes: int, version: str = "1.0.0") -> bytes:
    """An ODCS v3.1 contract shaped like a real 360 model: keys, a chain of foreign keys,
    mandatory and optional attributes, allowed values and canonical meanings."""
    schema = []
    for e in range(entities):
        properties = [
            {
                "name": "id",
                "logicalType": "string",
                "physicalType": "VARCHAR(36)",
                "required": True,
                "unique": True,
                "primaryKey": True,
                "primaryKeyPosition": 1,
                "customProperties": [{"property": "canonicalMeaning", "value": "Surrogate key."}],
            }
        ]
        if e:
            properties.append(
                {
                    "name": "parent_id",
                    "logicalType": "string",
                    "physicalType": "VARCHAR(36)",
                    "required": True,
                    "relationships": [{"type": "foreignKey", "to": f"entity_{e - 1:03}.id"}],
                }
            )
        for a in range(len(properties), attributes):
            prop = {
                "name": f"attr_{a:03}",
                "businessName": f"Attribute {a}",
                "description": f"Attribute {a} of entity {e}.",
                "logicalType": ["string", "integer", "number", "date", "timestamp"][a % 5],
                "physicalType": ["VARCHAR(100)", "INTEGER", "DECIMAL(12,2)", "DATE", "TIMESTAMP"][
                    a % 5
                ],
                "required": a % 3 == 0,
                "customProperties": [
                    {
                        "property": "canonicalMeaning",
                        "value": f"Canonical meaning of attribute {a}.",
                    }
                ],
            }
            if a % 10 == 0:
                prop["quality"] = [
                    {
                        "type": "library",
                        "metric": "invalidValues",
                        "arguments": {"validValues": ["A", "B", "C"]},
                        "mustBe": 0,
                    }
                ]
            properties.append(prop)
        schema.append(
            {
                "name": f"entity_{e:03}",
                "physicalName": f"if_entity_{e:03}",
                "dataGranularityDescription": "One row per thing.",
                "properties": properties,
            }
        )
    document = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "urn:bench:generated",
        "name": "Generated 360",
        "version": version,
        "status": "active",
        "schema": schema,
    }
    return yaml.dump(
        document, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False
    ).encode()


def run() -> list[Result]:
    with scratch_database("bench_contracts") as connection:
        return _measure(connection)


def _measure(connection) -> list[Result]:
    from tests.factories import EngagementFactory

    engagement = EngagementFactory(slug="bench-contracts")
    content = generated_contract(entities=ENTITIES, attributes=ATTRIBUTES)
    scale = f"{ENTITIES}x{ATTRIBUTES}, {connection.vendor}, median of {REPEAT} interleaved pairs"
    with tempfile.TemporaryDirectory() as folder:
        return [
            _import_figure(engagement, content, scale),
            _export_figure(engagement, Path(folder), scale),
        ]


def _import_figure(engagement, content: bytes, scale: str) -> Result:
    from contracts import services

    user = engagement.created_by
    versions = iter(range(1, 1000))

    def import_contract() -> None:
        layer = services.contract_import(
            engagement=engagement,
            file_name="generated.odcs.yaml",
            content=content,
            acting_user=user,
            version=f"{next(versions)}.0.0",
        )
        assert layer.attributes.count() == ENTITIES * ATTRIBUTES

    import_contract()  # warm up, and the rows the floor writes
    bare = _BareContractRows(engagement, content.decode())
    seconds, floor = timed_pair(import_contract, bare.insert, repeat=REPEAT)
    return Result(
        name=f"contract import ({scale})",
        seconds=seconds,
        baseline_name="bare COPY/executemany of the same rows and history",
        baseline_seconds=floor,
        budget_ratio=IMPORT_BUDGET,
    )


def _export_figure(engagement, folder: Path, scale: str) -> Result:
    from django.core.management import call_command

    from contracts.exporters import layer_to_odcs
    from contracts.models import InterfaceLayer

    layer = InterfaceLayer.objects.filter(engagement=engagement, version="1.0.0").get()
    document = layer_to_odcs(layer)
    figure_file, floor_file = folder / "figure.odcs.yaml", folder / "floor.odcs.yaml"

    def export_contract() -> None:
        call_command(
            "export_contract",
            "--engagement",
            engagement.slug,
            "--contract-version",
            layer.version,
            "-o",
            str(figure_file),
            stdout=io.StringIO(),
        )

    def c_dump() -> None:
        text = yaml.dump(
            document,
            Dumper=yaml.CSafeDumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
        floor_file.write_text(text, encoding="utf-8")

    seconds, floor = timed_pair(export_contract, c_dump, repeat=REPEAT)
    assert figure_file.read_text(encoding="utf-8") == floor_file.read_text(encoding="utf-8")
    return Result(
        name=f"export_contract ({scale})",
        seconds=seconds,
        baseline_name="yaml.dump of the same document with the C dumper",
        baseline_seconds=floor,
        budget_ratio=EXPORT_BUDGET,
    )


class _BareContractRows:
    """The entity, attribute and relationship rows of the engagement's first imported layer,
    written bare under a new layer on each call, with the contract file the import keeps beside
    its layer (one INSERT)."""

    def __init__(self, engagement, file_text: str) -> None:
        from contracts.models import (
            InterfaceAttribute,
            InterfaceEntity,
            InterfaceLayer,
            InterfaceRelationship,
        )

        self.engagement = engagement
        self.file_text = file_text
        first = InterfaceLayer.objects.filter(engagement=engagement).earliest("pk")
        self.rows = BareRows(
            {
                "entity": InterfaceEntity,
                "attribute": InterfaceAttribute,
                "relationship": InterfaceRelationship,
            },
            dict.fromkeys(("entity", "attribute", "relationship"), {"layer": first}),
            parent_column="layer_id",
            references={
                "entity_id": "entity",
                "from_attribute_id": "attribute",
                "to_attribute_id": "attribute",
            },
        )
        self.runs = iter(range(1, 1000))

    def insert(self) -> None:
        from contracts.models import InterfaceLayer, InterfaceLayerFile

        layer = InterfaceLayer.objects.create(
            engagement=self.engagement,
            name="Bare",
            version=f"bare-{next(self.runs)}",
            source_file_name="bare.odcs.yaml",
            source_format="odcs_yaml",
            file_hash="0" * 64,
            imported_by=self.engagement.created_by,
        )
        file_table = InterfaceLayerFile._meta.db_table

        def keep_the_file(cursor) -> None:
            cursor.execute(
                f'INSERT INTO "{file_table}" (layer_id, content) VALUES (%s, %s)',
                [layer.pk, self.file_text],
            )

        self.rows.insert(
            layer.pk, acting_user_id=self.engagement.created_by_id, before=keep_the_file
        )
