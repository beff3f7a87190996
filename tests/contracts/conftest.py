"""Contract fixtures: small ODCS documents, written as a Tech BA would receive them."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from contracts import services

DEMO_FILE = Path(__file__).resolve().parents[2] / "contracts" / "demo" / "marketing_360.odcs.yaml"

SMALL = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "urn:test:small",
    "name": "Small 360",
    "version": "1.0.0",
    "status": "active",
    "customProperties": [{"property": "owner", "value": "marketing-data"}],
    "schema": [
        {
            "name": "customer",
            "physicalName": "if_customer",
            "businessName": "Customer",
            "description": "A person known to the brand.",
            "dataGranularityDescription": "One row per person.",
            "properties": [
                {
                    "name": "customer_id",
                    "logicalType": "string",
                    "physicalType": "VARCHAR(36)",
                    "required": True,
                    "unique": True,
                    "primaryKey": True,
                    "primaryKeyPosition": 1,
                    "customProperties": [
                        {"property": "canonicalMeaning", "value": "Golden record key."}
                    ],
                },
                {
                    "name": "email",
                    "logicalType": "string",
                    "physicalType": "VARCHAR(254)",
                    "classification": "PII",
                    "logicalTypeOptions": {"maxLength": 254, "format": "email"},
                    "examples": ["jane@example.com"],
                    "criticalDataElement": True,
                    "customProperties": [{"property": "sensitivity", "value": "high"}],
                },
                {
                    "name": "status",
                    "logicalType": "string",
                    "required": True,
                    "quality": [
                        {
                            "type": "library",
                            "metric": "invalidValues",
                            "arguments": {"validValues": ["active", "lapsed"]},
                            "mustBe": 0,
                        }
                    ],
                },
            ],
        },
        {
            "name": "email_event",
            "properties": [
                {
                    "name": "event_id",
                    "logicalType": "string",
                    "required": True,
                    "primaryKey": True,
                    "primaryKeyPosition": 1,
                },
                {
                    "name": "customer_id",
                    "logicalType": "string",
                    "required": True,
                    "relationships": [{"type": "foreignKey", "to": "customer.customer_id"}],
                },
                {"name": "amount", "logicalType": "number", "physicalType": "DECIMAL(12,2)"},
            ],
        },
    ],
}


def small_contract(**changes) -> dict:
    document = copy.deepcopy(SMALL)
    document.update(changes)
    return document


def as_yaml(document: dict) -> bytes:
    return yaml.safe_dump(document, sort_keys=False).encode()


@pytest.fixture
def demo_bytes() -> bytes:
    return DEMO_FILE.read_bytes()


@pytest.fixture
def small_layer(engagement, ba):
    return services.contract_import(
        engagement=engagement,
        file_name="small.yaml",
        content=as_yaml(small_contract()),
        acting_user=ba,
    )


@pytest.fixture
def published_demo(engagement, ba, demo_bytes):
    layer = services.contract_import(
        engagement=engagement,
        file_name="marketing_360.odcs.yaml",
        content=demo_bytes,
        acting_user=ba,
    )
    return services.contract_publish(layer=layer, acting_user=ba)


@pytest.fixture
def no_mapping_provider(monkeypatch):
    """As before the mapping app registers its affected-mappings provider."""
    from contracts import hooks

    monkeypatch.setattr(hooks, "_PROVIDERS", [])
