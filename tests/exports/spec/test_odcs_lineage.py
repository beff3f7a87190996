"""`export_contract --with-mapping`: the mapped contract as ODCS v3.1, each property carrying its
lineage (transformSourceObjects, transformLogic, transformDescription) — valid for contract
tools (`datacontract lint`, the bundled ODCS 3.1 JSON schema)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.core.management import call_command

from tests.contracts.test_export import _datacontract_cli

pytestmark = pytest.mark.django_db


def export(tmp_path, *flags) -> tuple[str, dict]:
    target = tmp_path / "marketing_360.odcs.yaml"
    out = io.StringIO()
    call_command(
        "export_contract", "--engagement", "acme-360", "--as", "ba", "-o", str(target), *flags,
        stdout=out,
    )  # fmt: skip
    return out.getvalue(), yaml.safe_load(target.read_text())


def prop(document, entity, attribute) -> dict:
    schema = next(s for s in document["schema"] if s["name"] == entity)
    return next(p for p in schema["properties"] if p["name"] == attribute)


def test_the_mapped_contract_carries_each_propertys_lineage(mapped, ba, tmp_path):
    output, document = export(tmp_path, "--with-mapping")

    assert output.startswith("exported Marketing 360 1.0.0 with the lineage of ")
    email = prop(document, "customer", "email")
    assert email["transformSourceObjects"] == ["crm_customer.email"]
    assert email["transformLogic"] == "LOWER(TRIM(c.email))"
    assert email["transformDescription"] == "Taken from c.email, trimmed, then in lower case."
    country = prop(document, "customer_address", "country_code")
    assert country["transformLogic"] == (
        "COALESCE(CASE UPPER(ad.country_code) WHEN 'UK' THEN 'GB' ELSE UPPER(ad.country_code) "
        "END, 'GB')"
    )
    assert country["transformDescription"].endswith(
        "When that is empty, the default 'GB' is loaded."
    )
    # An attribute without a rule carries no lineage
    assert "transformLogic" not in prop(document, "subscription", "plan_code")


def test_without_the_option_the_contract_is_exported_as_before(mapped, ba, tmp_path):
    output, document = export(tmp_path)

    assert output == f"exported Marketing 360 1.0.0 to {tmp_path / 'marketing_360.odcs.yaml'}\n"
    assert "transformLogic" not in prop(document, "customer", "email")


def test_the_mapped_contract_passes_datacontract_lint_and_the_odcs_schema(mapped, ba, tmp_path):
    import datacontract

    _output, document = export(tmp_path, "--with-mapping")
    schema_file = Path(datacontract.__file__).parent / "schemas" / "odcs-3.1.0.schema.json"
    jsonschema.Draft202012Validator(json.loads(schema_file.read_text())).validate(document)

    result = subprocess.run(
        [_datacontract_cli(), "lint", str(tmp_path / "marketing_360.odcs.yaml")],
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
