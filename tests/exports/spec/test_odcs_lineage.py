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
import sqlalchemy as sa
import sqlglot
import yaml
from django.core.management import call_command
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify

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


def _mart_schema(mart_file) -> dict[str, dict[str, str]]:
    """The demo Mart's tables and column types, read from the database itself."""
    inspector = sa.inspect(sa.create_engine(f"sqlite:///{mart_file}"))
    return {
        table: {c["name"]: str(c["type"]) or "TEXT" for c in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def test_every_transform_logic_resolves_against_its_objects_exported_source(
    mapped, ba, tmp_path, demo_mart_file
):
    # Given the mapped contract exported with its lineage
    _output, document = export(tmp_path, "--with-mapping")
    mart = _mart_schema(demo_mart_file)
    resolved = 0
    for obj in document["schema"]:
        logic = [p["transformLogic"] for p in obj["properties"] if "transformLogic" in p]
        if not logic:
            continue
        # Then the object names the rows its properties read
        custom = {c["property"]: c["value"] for c in obj["customProperties"]}
        source = custom["transformSource"]
        query = sqlglot.parse_one(source["sourceQuery"], read=source["dialect"])
        aliases = {t.alias_or_name for t in query.find_all(exp.Table)}
        assert source["alias"] in aliases
        assert source["drivingTable"] == query.find(exp.From).this.name
        assert len(source["joins"]) == len(query.args.get("joins") or [])
        for text in logic:
            # And every alias a transformLogic uses is one of that source's
            tree = sqlglot.parse_one(text, read=source["dialect"])
            used = {c.table for c in tree.find_all(exp.Column) if c.table}
            assert used <= aliases, (obj["name"], text)
            # And every column resolves in the Mart when the logic is selected from the source
            select = query.copy()
            select.set("expressions", [exp.alias_(tree, "value")])
            qualify(select, schema=mart, dialect=source["dialect"], validate_qualify_columns=True)
            resolved += 1
    assert resolved == sum(
        1 for o in document["schema"] for p in o["properties"] if "transformLogic" in p
    )
    assert resolved > 20


def test_the_customer_source_is_its_driving_table_joins_and_filter(mapped, ba, tmp_path):
    _output, document = export(tmp_path, "--with-mapping")

    customer = next(o for o in document["schema"] if o["name"] == "customer")
    source = next(c for c in customer["customProperties"] if c["property"] == "transformSource")
    assert source["value"]["drivingTable"] == "crm_customer"
    assert source["value"]["alias"] == "c"
    assert source["value"]["sourceQuery"].startswith("SELECT * FROM crm_customer AS c")
    assert source["description"].startswith("The rows each property's transformLogic reads")
