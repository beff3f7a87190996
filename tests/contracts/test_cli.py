"""import_contract and export_contract from the command line."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError

from contracts import hooks
from contracts.models import InterfaceLayer
from tests.clirun import run

from .conftest import DEMO_FILE, as_yaml, small_contract
from .test_versions import second_version

pytestmark = pytest.mark.django_db


def test_import_contract_prints_the_counts(engagement, ba):
    output = run("import_contract", "--engagement", "acme-360", "--as", "ba", str(DEMO_FILE))

    assert output == ("imported Marketing 360 1.0.0: 5 entities, 43 attributes, 4 relationships\n")
    assert InterfaceLayer.objects.get().imported_by == ba


def test_import_with_publish_and_diff_of_a_second_version(
    engagement, ba, tmp_path, no_mapping_provider
):
    first = tmp_path / "small.yaml"
    first.write_bytes(as_yaml(small_contract()))
    second = tmp_path / "small-1.1.yaml"
    second.write_bytes(second_version())
    run("import_contract", "--engagement", "acme-360", "--as", "ba", "--publish", str(first))

    output = run("import_contract", "--engagement", "acme-360", "--as", "ba", "--diff", str(second))

    assert output.splitlines() == [
        "imported Small 360 1.1.0: 3 entities, 7 attributes, 1 relationships",
        "changes from Small 360 1.0.0: entities +1 -0 ~1; attributes +2 -1 ~2; relationships +0 -0",
        "breaking for consumers: 2; breaking for the load: 3; cannot tell: 0",
        "  + campaign (entity): breaks the load",
        "  ~ customer (description): not breaking",
        "  + customer.phone: breaks the load",
        "  + campaign.campaign_id: with its entity",
        "  - email_event.amount: breaks consumers",
        "  ~ customer.email (required tightens): breaks the load",
        "  ~ customer.status (allowed values loosens): breaks consumers",
        "affected mappings: none (mappings do not exist yet)",
    ]


def test_the_diff_lists_the_affected_mappings_under_the_change_they_come_from(
    engagement, ba, tmp_path, no_mapping_provider
):
    first = tmp_path / "small.yaml"
    first.write_bytes(as_yaml(small_contract()))
    second = tmp_path / "small-1.1.yaml"
    second.write_bytes(second_version())
    run("import_contract", "--engagement", "acme-360", "--as", "ba", "--publish", str(first))

    def provider(engagement_, diff):
        return [
            {"entity": "email_event", "attribute": "amount", "reason": "removed from the contract"},
            {"entity": "customer", "attribute": "email", "reason": "changed: required"},
        ]

    hooks.register_affected_mappings_provider(provider)
    try:
        output = run(
            "import_contract", "--engagement", "acme-360", "--as", "ba", "--diff", "--format", "json",
            str(second),
        )  # fmt: skip
    finally:
        hooks.unregister_affected_mappings_provider(provider)

    diff = json.loads(output)["diff"]
    assert diff["breaking"] == {"consumers": True, "load": True}
    by_subject = {c["subject"]: c for c in diff["changes"]}
    assert by_subject["email_event.amount"]["affected_mappings"] == [
        {"entity": "email_event", "attribute": "amount", "reason": "removed from the contract"}
    ]
    email = by_subject["customer.email"]
    assert (email["consumer"], email["producer"], email["breaking"]) == ("info", "error", False)
    assert email["fields"] == [
        {"field": "required", "old": False, "new": True, "direction": "tightens"}
    ]
    assert email["affected_mappings"][0]["reason"] == "changed: required"
    assert by_subject["customer.phone"]["affected_mappings"] == []


def test_a_bad_file_exits_non_zero_with_the_place_and_saves_nothing(engagement, ba, tmp_path):
    document = small_contract()
    document["schema"][0]["properties"][2]["logicalType"] = "enum"
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(as_yaml(document))

    with pytest.raises(CommandError) as exc:
        run("import_contract", "--engagement", "acme-360", "--as", "ba", str(bad))

    assert str(exc.value) == (
        "bad.yaml: schema[0].properties[2].logicalType: 'enum' is not allowed; expected "
        "one of string, date, timestamp, time, number, integer, object, array, boolean."
    )
    assert InterfaceLayer.objects.count() == 0


def test_a_missing_file_and_a_forbidden_user_are_refused(engagement, sme, tmp_path):
    with pytest.raises(CommandError) as exc:
        run("import_contract", "--engagement", "acme-360", str(tmp_path / "nope.yaml"))
    assert str(exc.value) == f"Cannot read {tmp_path / 'nope.yaml'}: No such file or directory."

    with pytest.raises(CommandError) as exc:
        run("import_contract", "--engagement", "acme-360", "--as", "sme", str(DEMO_FILE))
    assert (
        str(exc.value)
        == "Your role in acme-360 does not allow this (import contract); only an Implementation Lead or Tech BA may."
    )


def test_export_contract_writes_odcs_that_imports_back_identically(engagement, ba, tmp_path):
    run("import_contract", "--engagement", "acme-360", "--as", "ba", "--publish", str(DEMO_FILE))
    target = tmp_path / "out.yaml"

    output = run("export_contract", "--engagement", "acme-360", "-o", str(target))

    assert output == f"exported Marketing 360 1.0.0 to {target}\n"
    again = run(
        "import_contract",
        "--engagement",
        "acme-360",
        "--as",
        "ba",
        "--contract-version",
        "1.0.1",
        "--diff",
        str(target),
    )
    assert "entities +0 -0 ~0; attributes +0 -0 ~0; relationships +0 -0" in again


def test_export_without_a_contract_fails(engagement, tmp_path):
    with pytest.raises(CommandError) as exc:
        run("export_contract", "--engagement", "acme-360", "-o", str(tmp_path / "x.yaml"))

    assert str(exc.value) == "No contract has been imported into acme-360."


def test_a_script_reads_the_import_publish_diff_and_export_as_json(
    engagement, ba, tmp_path, no_mapping_provider
):
    first = tmp_path / "small.yaml"
    first.write_bytes(as_yaml(small_contract()))
    second = tmp_path / "small-1.1.yaml"
    second.write_bytes(second_version())
    published = json.loads(
        run("import_contract", "--engagement", "acme-360", "--as", "ba", "--publish",
            "--format", "json", str(first))
    )  # fmt: skip
    imported = json.loads(
        run("import_contract", "--engagement", "acme-360", "--as", "ba", "--diff",
            "--format", "json", str(second))
    )  # fmt: skip
    target = tmp_path / "out.yaml"
    exported = json.loads(
        run("export_contract", "--engagement", "acme-360", "-o", str(target), "--format", "json")
    )

    assert published["published"] is True and published["diff"] is None
    assert published["contract"] == {"name": "Small 360", "version": "1.0.0"}
    assert imported["published"] is False
    assert imported["counts"]["entities"] == 3 and imported["counts"]["attributes"] == 7
    assert imported["diff"]["from"] == {"name": "Small 360", "version": "1.0.0"}
    assert [
        (c["entity"], c["attribute"], c["fields"]) for c in imported["diff"]["attributes_changed"]
    ] == [
        ("customer", "email", ["required"]),
        ("customer", "status", ["allowed_values"]),
    ]
    assert imported["diff"]["affected_mappings"] == []
    assert exported == {
        "engagement": "acme-360",
        "contract": {"name": "Small 360", "version": "1.0.0", "status": "published"},
        "output": str(target),
        "mapped_attributes": None,
        "server": None,
    }
