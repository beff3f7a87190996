"""Export back to ODCS v3.1: the round trip holds and datacontract-cli lints the file as valid."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from contracts import services
from contracts.exporters import layer_to_odcs, layer_to_yaml
from contracts.models import InterfaceLayer
from tests.factories import EngagementFactory

from .conftest import as_yaml, small_contract

pytestmark = pytest.mark.django_db

ATTRIBUTE_FIELDS = [
    "name", "position", "physical_name", "business_name", "description", "logical_type",
    "physical_type", "length", "precision", "scale", "required", "primary_key",
    "primary_key_position", "unique", "allowed_values", "max_length", "format", "pattern",
    "minimum", "maximum", "canonical_meaning", "examples", "classification", "extra",
]  # fmt: skip


def snapshot(layer: InterfaceLayer) -> dict:
    """Everything a contract says, without ids, timestamps or who imported it."""
    return {
        "layer": {
            k: getattr(layer, k) for k in ("name", "version", "contract_id", "description", "extra")
        },
        "entities": list(
            layer.entities.order_by("position").values(
                "name",
                "position",
                "physical_name",
                "business_name",
                "description",
                "grain",
                "extra",
            )
        ),
        "attributes": list(
            layer.attributes.order_by("entity__position", "position").values(
                "entity__name", *ATTRIBUTE_FIELDS
            )
        ),
        "relationships": sorted(
            layer.relationships.values_list(
                "from_attribute__entity__name",
                "from_attribute__name",
                "to_attribute__entity__name",
                "to_attribute__name",
                "on_schema",
            )
        ),
    }


def reimport(layer, acting_user, file_name="export.yaml"):
    other = EngagementFactory(slug="round-trip", created_by=acting_user)
    return services.contract_import(
        engagement=other,
        file_name=file_name,
        content=layer_to_yaml(layer).encode(),
        acting_user=acting_user,
    )


def test_import_export_import_gives_an_identical_contract(published_demo, lead):
    again = reimport(published_demo, lead)

    assert snapshot(again) == snapshot(published_demo)
    assert layer_to_yaml(again) == layer_to_yaml(published_demo)


def test_the_round_trip_keeps_custom_properties_and_schema_level_relationships(
    engagement, ba, lead
):
    document = small_contract()
    document["schema"][1]["relationships"] = [
        {"type": "foreignKey", "from": "email_event.event_id", "to": "customer.customer_id"}
    ]
    layer = services.contract_import(
        engagement=engagement, file_name="s.yaml", content=as_yaml(document), acting_user=ba
    )

    again = reimport(layer, lead)

    assert snapshot(again) == snapshot(layer)
    exported = layer_to_odcs(layer)
    assert exported["customProperties"] == [{"property": "owner", "value": "marketing-data"}]
    assert exported["schema"][1]["relationships"] == [
        {"type": "foreignKey", "from": "email_event.event_id", "to": "customer.customer_id"}
    ]


def test_a_spreadsheet_contract_round_trips_through_odcs(engagement, ba, lead):
    from .test_import_spreadsheet import ROWS, csv_bytes

    layer = services.contract_import(
        engagement=engagement, file_name="m360.csv", content=csv_bytes(ROWS), acting_user=ba
    )

    again = reimport(layer, lead)

    assert snapshot(again)["attributes"] == snapshot(layer)["attributes"]
    assert snapshot(again)["relationships"] == snapshot(layer)["relationships"]


def _datacontract_cli() -> str:
    path = Path(sys.executable).with_name("datacontract")
    if path.exists():
        return str(path)
    found = shutil.which("datacontract")
    if not found:
        pytest.fail("datacontract-cli is a dev dependency: pip install -e '.[dev]'")
    return found


def test_the_export_passes_datacontract_lint_offline(published_demo, tmp_path):
    # datacontract-cli validates against the ODCS JSON schema bundled in the package
    # (datacontract/schemas/odcs-3.1.0.schema.json): no network needed.
    target = tmp_path / "marketing_360.odcs.yaml"
    target.write_text(layer_to_yaml(published_demo), encoding="utf-8")

    result = subprocess.run(
        [_datacontract_cli(), "lint", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "NO_PROXY": "*",
            "https_proxy": "http://127.0.0.1:9",
        },
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Data contract is valid against ODCS v3.1.0" in result.stdout


def test_the_export_is_valid_against_the_bundled_odcs_3_1_json_schema(published_demo):
    import datacontract

    schema_file = Path(datacontract.__file__).parent / "schemas" / "odcs-3.1.0.schema.json"
    schema = json.loads(schema_file.read_text())

    document = yaml.safe_load(layer_to_yaml(published_demo))

    jsonschema.Draft202012Validator(schema).validate(document)
