"""Contract import at the issue's scale: 200 entities × 100 attributes (20,000 attributes).

The figure is the real import service (parse the ODCS YAML, validate, bulk insert entities,
attributes and relationships with their history rows, one transaction). The baseline, measured in
the same run on the same database, is a bare `bulk_create` of the same number of entity and
attribute rows (no parsing, no validation, no history). Budget: 10 s (issue 3).

Runs in its own database, created and dropped here: `test_`-style via Django's test database
creation, named bench_contracts_<pid> (a file next to the SQLite database, or a PostgreSQL
database when DATABASE_URL points at PostgreSQL).
"""

from __future__ import annotations

import os

import yaml

from bench.common import Result, timed

ENTITIES = 200
ATTRIBUTES = 100
BUDGET_SECONDS = 10.0
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
    from django.db import connection

    test_name = f"bench_contracts_{os.getpid()}"
    if connection.vendor == "sqlite":
        test_name = os.path.join(
            os.path.dirname(connection.settings_dict["NAME"]) or ".", f"{test_name}.sqlite3"
        )
    connection.settings_dict.setdefault("TEST", {})["NAME"] = test_name
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        return _measure(connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _measure(connection) -> list[Result]:
    from django.db import transaction

    from contracts import services
    from contracts.models import InterfaceAttribute, InterfaceEntity, InterfaceLayer
    from tests.factories import EngagementFactory

    engagement = EngagementFactory(slug="bench-contracts")
    user = engagement.created_by
    content = generated_contract(entities=ENTITIES, attributes=ATTRIBUTES)
    runs = iter(range(1, 100))

    def import_once() -> None:
        # The figure: the real import service, end to end (a new version each run).
        layer = services.contract_import(
            engagement=engagement,
            file_name="generated.yaml",
            content=content,
            acting_user=user,
            version=f"{next(runs)}.0.0",
        )
        assert layer.attributes.count() == ENTITIES * ATTRIBUTES

    def bare_insert() -> None:
        # The baseline: the same rows, bare bulk inserts (no parsing, validation or history).
        layer = InterfaceLayer.objects.create(
            engagement=engagement,
            name="Bare",
            version=str(next(runs)),
            source_file_name="bare.yaml",
            source_format="odcs_yaml",
            source_file="",
            file_hash="0" * 64,
            imported_by=user,
        )
        with transaction.atomic():
            entities = InterfaceEntity.objects.bulk_create(
                [
                    InterfaceEntity(layer=layer, name=f"entity_{e:03}", position=e)
                    for e in range(ENTITIES)
                ]
            )
            InterfaceAttribute.objects.bulk_create(
                [
                    InterfaceAttribute(
                        layer=layer,
                        entity=entity,
                        name=f"attr_{a:03}",
                        position=a,
                        logical_type="string",
                        canonical_meaning=f"Canonical meaning of attribute {a}.",
                    )
                    for entity in entities
                    for a in range(ATTRIBUTES)
                ],
                batch_size=2000,
            )

    seconds = timed(import_once, repeat=REPEAT)
    baseline = timed(bare_insert, repeat=REPEAT)
    return [
        Result(
            name=f"contract import {ENTITIES}x{ATTRIBUTES} ({connection.vendor}, median of {REPEAT})",
            seconds=seconds,
            baseline_name="bare bulk insert of the same rows",
            baseline_seconds=baseline,
            budget_seconds=BUDGET_SECONDS,
        )
    ]
