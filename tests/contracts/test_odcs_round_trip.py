"""ODCS in and out again, losing nothing: contracts we wrote that use every construct the standard
defines for tables are imported, exported, linted by datacontract-cli and compared field by field
with the file they came from. Refusals follow the standard's own JSON Schema and list every
problem at once."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.urls import reverse

from contracts import services
from contracts.exporters import layer_to_odcs, layer_to_yaml
from contracts.models import InterfaceAttribute, InterfaceLayer, InterfaceRelationship

from .conftest import as_yaml, small_contract
from .test_export import _datacontract_cli, reimport, snapshot

pytestmark = pytest.mark.django_db

CONTRACTS = Path(__file__).resolve().parent / "odcs"
EVERYTHING = CONTRACTS / "orders_everything.odcs.yaml"

# What the standard says when a key is absent: writing the default is not a change.
DEFAULTS = {
    "required": False,
    "unique": False,
    "primaryKey": False,
    "partitioned": False,
    "criticalDataElement": False,
    "primaryKeyPosition": -1,
}


def meaning(value: Any) -> Any:
    """`value` without the keys that only restate a default (and without `type: foreignKey`,
    the one relationship type), so two documents that say the same compare equal."""
    if isinstance(value, list):
        return [meaning(v) for v in value]
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        if key in DEFAULTS and item == DEFAULTS[key]:
            continue
        if key == "type" and item == "foreignKey":
            continue
        kept[key] = meaning(item)
    return kept


def differences(original: Any, exported: Any, place: str = "") -> list[str]:
    """Every place where the export says something else than the original, by path."""
    if isinstance(original, dict) and isinstance(exported, dict):
        found = []
        for key in original.keys() | exported.keys():
            where = f"{place}.{key}" if place else key
            if key not in exported:
                found.append(f"{where}: lost")
            elif key not in original:
                found.append(f"{where}: added {exported[key]!r}")
            else:
                found += differences(original[key], exported[key], where)
        return sorted(found)
    if isinstance(original, list) and isinstance(exported, list):
        if len(original) != len(exported):
            return [f"{place}: {len(original)} items became {len(exported)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(original, exported, strict=True))
            for d in differences(a, b, f"{place}[{i}]")
        ]
    return [] if original == exported else [f"{place}: {original!r} became {exported!r}"]


def lint(document_text: str, tmp_path: Path) -> subprocess.CompletedProcess:
    target = tmp_path / "export.odcs.yaml"
    target.write_text(document_text, encoding="utf-8")
    return subprocess.run(
        [_datacontract_cli(), "lint", str(target)],
        capture_output=True,
        text=True,
        timeout=180,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "https_proxy": "http://127.0.0.1:9"},
    )


def import_file(engagement, user, name: str, content: bytes) -> InterfaceLayer:
    return services.contract_import(
        engagement=engagement, file_name=name, content=content, acting_user=user
    )


def test_every_table_construct_of_the_standard_survives_the_round_trip(
    engagement, ba, lead, tmp_path
):
    # given a contract that uses every construct ODCS v3.1 shows for tables
    original = yaml.safe_load(EVERYTHING.read_text(encoding="utf-8"))

    # when it is imported and exported again
    layer = import_file(engagement, ba, EVERYTHING.name, EVERYTHING.read_bytes())
    exported_text = layer_to_yaml(layer)

    # then datacontract-cli finds the export valid
    result = lint(exported_text, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout
    # and it says field by field what the original said
    assert differences(meaning(original), meaning(yaml.safe_load(exported_text))) == []
    # and importing the export gives the same contract again
    assert snapshot(reimport(layer, lead)) == snapshot(layer)


@pytest.mark.parametrize(
    ("file_name", "written_as"),
    [("parcels_v3_2.odcs.yaml", "v3.2.0"), ("ledger_v3_0.odcs.yaml", "v3.1.0")],
    ids=["v3.2.0 stays", "v3.0.2 goes out as v3.1.0"],
)
def test_contracts_of_other_releases_round_trip(
    file_name, written_as, engagement, ba, lead, tmp_path
):
    # given contracts in v3.2.0 (no name, enums, ids, a key declared in both places, a target
    # its object lacks) and in v3.0.2 (a custom engine rule)
    path = CONTRACTS / file_name
    original = yaml.safe_load(path.read_text(encoding="utf-8"))

    # when each is imported and exported again
    layer = import_file(engagement, ba, file_name, path.read_bytes())
    exported_text = layer_to_yaml(layer)

    # then the export lints against the release it names (v3.0 names go out as v3.1's)
    exported = yaml.safe_load(exported_text)
    result = lint(exported_text, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"valid against ODCS {written_as}" in result.stdout
    # and loses nothing
    exported_same_release = {**exported, "apiVersion": original["apiVersion"]}
    assert differences(meaning(original), meaning(exported_same_release)) == []
    assert exported["apiVersion"] == written_as
    assert snapshot(reimport(layer, lead)) == snapshot(layer)


def test_an_enum_gives_the_allowed_values_and_a_missing_target_is_kept_unresolved(
    client, engagement, ba
):
    # given the v3.2.0 contract, published
    path = CONTRACTS / "parcels_v3_2.odcs.yaml"
    layer = import_file(engagement, ba, path.name, path.read_bytes())
    services.contract_publish(layer=layer, acting_user=ba)

    # then an enum's values are the attribute's allowed values, which the checks read
    attributes = {a.name: a for a in InterfaceAttribute.objects.filter(entity__name="parcel")}
    assert attributes["size_class"].allowed_values == [1, 2]
    # and the property-level key on depot_code is the first column of the composite one
    composite = InterfaceRelationship.objects.filter(layer=layer, group__isnull=False)
    assert [(r.from_attribute.name, r.target, r.also_on_property) for r in composite] == [
        ("depot_code", "depot.depot_code", True),
        ("depot_country", "depot.country_code", False),
    ]
    # and the target depot lacks is kept as written, shown as unresolved, never as a key
    dangling = InterfaceRelationship.objects.get(layer=layer, from_attribute__name="sorting_bay")
    assert (dangling.is_external, dangling.is_unresolved) == (True, True)
    client.force_login(ba)
    page = client.get(reverse("contract-entity", args=[engagement.slug, "parcel"]))
    assert '<code>depot.bay_code</code> <small class="muted">(unresolved: not an attribute of ' in (
        page.content.decode()
    )


def test_a_tolerance_rule_is_exported_as_written_without_an_added_mustbe(engagement, ba):
    # given allowed values with a tolerance of 5 percent
    layer = import_file(engagement, ba, EVERYTHING.name, EVERYTHING.read_bytes())
    segment = layer.attributes.get(name="segment")
    assert segment.allowed_values == ["retail", "business", "public"]

    # when the contract is exported, then the rule is the one written, with no `mustBe: 0`
    exported = layer_to_odcs(layer)
    prop = next(p for p in exported["schema"][0]["properties"] if p["name"] == "segment")
    assert prop["quality"] == [
        {
            "type": "library",
            "metric": "invalidValues",
            "arguments": {"validValues": ["retail", "business", "public"]},
            "mustBeLessOrEqualTo": 5,
            "unit": "percent",
            "description": "A few legacy segments are tolerated.",
        }
    ]


def test_composite_external_and_twice_placed_relationships_keep_their_shape(engagement, ba):
    # given the contract's relationships: one on the property and on the schema object, a key of
    # two columns, targets outside the contract, one written with the objects' ids
    layer = import_file(engagement, ba, EVERYTHING.name, EVERYTHING.read_bytes())
    rows = InterfaceRelationship.objects.filter(layer=layer).order_by("pk")

    # then the one declared twice is one relationship, placed in both
    twice = rows.get(from_attribute__entity__name="orders", from_attribute__name="customer_id",
                     to_attribute__entity__name="customer")  # fmt: skip
    assert (twice.on_schema, twice.also_on_property) == (True, True)
    # the key of two columns is one relationship of two ordered pairs
    composite = rows.filter(to_attribute__entity__name="customer_address")
    assert [(r.from_attribute.name, r.to_attribute.name, r.key_position) for r in composite] == [
        ("customer_id", "customer_id", 1),
        ("address_no", "address_no", 2),
    ]
    assert len({r.group for r in composite}) == 1
    # targets outside the contract are kept as written, marked external
    assert [r.target for r in rows if r.is_external] == [
        "currencies.code",
        "regions.region",
        "regions.country",
    ]
    # a reference by ids resolves to the attribute and is written back the same way
    by_id = rows.get(from_attribute__name="sales_rep")
    assert (by_id.to_attribute.name, by_id.target) == (
        "customer_id",
        "schema/cust_tbl/properties/cust_id",
    )
    # and the export writes the composite and external ones as lists again
    exported = layer_to_odcs(layer)["schema"][2]["relationships"]
    assert exported[1]["from"] == ["orders.customer_id", "orders.address_no"]
    assert exported[2]["to"] == ["regions.region", "regions.country"]


def test_an_external_target_is_shown_as_external_on_the_entity_page(client, engagement, ba):
    layer = import_file(engagement, ba, EVERYTHING.name, EVERYTHING.read_bytes())
    services.contract_publish(layer=layer, acting_user=ba)
    client.force_login(ba)

    page = client.get(reverse("contract-entity", args=[engagement.slug, "orders"]))

    assert page.status_code == 200
    page = page.content.decode()

    assert '<code>currencies.code</code> <small class="muted">(external)</small>' in page


OLDER_SPELLINGS = """\
apiVersion: v3.0.2
kind: DataContract
id: urn:test:older
name: Older spellings
version: 1.0.0
status: active
schema:
  - name: account
    properties:
      - name: account_id
        logicalType: string
        isNullable: false
        isUnique: true
        isPrimaryKey: true
        primaryKeyPosition: 1
        criticalDataElementStatus: true
      - name: region
        logicalType: string
        isNullable: true
        partitionStatus: true
        quality:
          - rule: duplicateCount
            mustBeLessThan: 10
            unit: rows
"""


def test_older_spellings_are_read_under_their_current_names(engagement, ba, lead, tmp_path):
    # given a v3.0 contract with the spellings of earlier drafts of the standard
    layer = import_file(engagement, ba, "older.yaml", OLDER_SPELLINGS.encode())

    # then they mean what their current names mean
    key = layer.attributes.get(name="account_id")
    assert (key.required, key.unique, key.primary_key, key.extra) == (
        True,
        True,
        True,
        {"criticalDataElement": True},
    )
    region = layer.attributes.get(name="region")
    assert (region.required, region.extra["partitioned"]) == (False, True)
    # and the export says the same under the current names, and lints
    exported_text = layer_to_yaml(layer)
    exported = yaml.safe_load(exported_text)["schema"][0]["properties"]
    assert meaning(exported) == [
        {
            "name": "account_id",
            "logicalType": "string",
            "required": True,
            "unique": True,
            "primaryKey": True,
            "primaryKeyPosition": 1,
            "criticalDataElement": True,
        },
        {
            "name": "region",
            "logicalType": "string",
            "partitioned": True,
            "quality": [{"metric": "duplicateValues", "mustBeLessThan": 10, "unit": "rows"}],
        },
    ]
    result = lint(exported_text, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_violation_of_the_standard_is_named_at_once_and_nothing_is_written(engagement, ba):
    # given a contract breaking the standard's schema in five places
    document = small_contract(description=None)
    del document["version"]
    email = document["schema"][0]["properties"][1]
    email["classification"] = 3
    email["lineage"] = "crm"
    status_rule = document["schema"][0]["properties"][2]["quality"][0]
    status_rule.update(mustBeLessOrEqualTo=5, unit="percent")

    # when it is imported
    with pytest.raises(ValidationError) as exc:
        import_file(engagement, ba, "bad.yaml", as_yaml(document))

    # then every problem is named with its path, in document order
    assert exc.value.messages == [
        "bad.yaml: description: expected a mapping, found nothing (null).",
        "bad.yaml: schema[0].properties[1].classification: expected text, found 3.",
        "bad.yaml: schema[0].properties[1].lineage: unknown key; the standard keeps anything "
        "else under customProperties.",
        "bad.yaml: schema[0].properties[2].quality[0]: sets mustBe, mustBeLessOrEqualTo; "
        "expected exactly one of mustBe, mustNotBe, mustBeGreaterThan, mustBeGreaterOrEqualTo, "
        "mustBeLessThan, mustBeLessOrEqualTo, mustBeBetween, mustNotBeBetween.",
        "bad.yaml: version: missing required key.",
    ]
    assert InterfaceLayer.objects.count() == 0
    assert InterfaceAttribute.history.count() == 0


def test_our_own_checks_also_name_every_problem_at_once(engagement, ba):
    # given a contract the standard accepts but which names things twice and miscounts a key
    document = small_contract()
    customer, event = document["schema"]
    customer["properties"][2]["name"] = "email"
    event["properties"][1].update(primaryKey=True, primaryKeyPosition=1)
    event["properties"][1]["relationships"] = [{"to": "customer.id"}]
    event["relationships"] = [
        {
            "from": ["email_event.event_id", "email_event.customer_id"],
            "to": ["customer.customer_id"],
        }
    ]
    extra_entity = copy.deepcopy(event)
    extra_entity.pop("relationships")
    extra_entity["properties"][1].pop("relationships")
    document["schema"].append(extra_entity)

    with pytest.raises(ValidationError) as exc:
        import_file(engagement, ba, "bad.yaml", as_yaml(document))

    assert exc.value.messages == [
        "bad.yaml: schema[0].properties[2].name: duplicate attribute name 'email' in entity "
        "'customer' (already at schema[0].properties[1]).",
        "bad.yaml: schema[1].properties[1].primaryKeyPosition: primary key position 1 is "
        "already taken by 'event_id'.",
        "bad.yaml: schema[1].relationships[0]: 'from' and 'to' must list the same number of "
        "attributes.",
        "bad.yaml: schema[2].name: duplicate entity name 'email_event' (already at schema[1]).",
        "bad.yaml: schema[2].properties[1].primaryKeyPosition: primary key position 1 is "
        "already taken by 'event_id'.",
    ]
    assert InterfaceLayer.objects.count() == 0


def test_the_standard_schema_is_read_from_the_installed_package_never_from_the_repo():
    import importlib.util

    from contracts.importers.odcs_schema import schema_file

    package = Path(importlib.util.find_spec("datacontract").origin).parent
    repo = Path(__file__).resolve().parents[2]

    assert schema_file("v3.1.0") == package / "schemas" / "odcs-3.1.0.schema.json"
    assert schema_file("v3.0.1") == package / "schemas" / "odcs-3.0.2.schema.json"
    tracked = subprocess.run(
        ["git", "ls-files", "*.json"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [name for name in tracked if "odcs" in name.lower()]


def test_the_api_answers_a_bad_contract_with_every_problem(engagement, ba):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient

    from .test_api import BASE

    api = APIClient()
    api.force_authenticate(ba)
    document = small_contract(description=None)
    document["schema"][0]["properties"][1]["classification"] = 3

    response = api.post(
        f"{BASE}/layers/",
        {"file": SimpleUploadedFile("bad.yaml", as_yaml(document))},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": [
            "bad.yaml: description: expected a mapping, found nothing (null).",
            "bad.yaml: schema[0].properties[1].classification: expected text, found 3.",
        ]
    }
    assert InterfaceLayer.objects.count() == 0


def test_external_targets_stay_out_of_the_load_order_and_the_diagram(engagement, ba):
    from contracts.selectors import layer_erd
    from mappings.selectors.mapping import contract_load_order

    # given the published contract, whose orders reference currencies and regions outside it
    layer = import_file(engagement, ba, EVERYTHING.name, EVERYTHING.read_bytes())
    services.contract_publish(layer=layer, acting_user=ba)

    # then the load order follows the keys inside the contract only
    order = contract_load_order(engagement=engagement)
    assert (order.order, order.cycle) == (["customer", "customer_address", "orders"], [])
    # and the diagram joins only entities of the contract
    edges = {(e["source"], e["target"]) for e in layer_erd(layer=layer)["edges"]}
    assert edges == {
        ("customer_address", "customer"),
        ("orders", "customer"),
        ("orders", "customer_address"),
    }


def test_the_same_contract_in_json_imports_as_the_yaml_one(engagement, ba):
    import json

    from tests.factories import EngagementFactory

    # given the contract as YAML and the same document as JSON, in two engagements
    from_yaml = import_file(engagement, ba, EVERYTHING.name, EVERYTHING.read_bytes())
    other = EngagementFactory(slug="json-twin", created_by=ba)
    document = yaml.safe_load(EVERYTHING.read_text(encoding="utf-8"))
    from_json = import_file(other, ba, "orders.odcs.json", json.dumps(document).encode())

    # then both say the same, and export the same
    assert snapshot(from_json) == snapshot(from_yaml)
    assert layer_to_yaml(from_json) == layer_to_yaml(from_yaml)


def test_a_file_wrong_everywhere_lists_the_first_hundred_problems_and_counts_the_rest(
    engagement, ba
):
    document = small_contract()
    document["schema"][0]["properties"][1].update({f"x{i:03}": i for i in range(150)})

    with pytest.raises(ValidationError) as exc:
        import_file(engagement, ba, "bad.yaml", as_yaml(document))

    assert len(exc.value.messages) == 101
    assert exc.value.messages[0] == (
        "bad.yaml: schema[0].properties[1].x000: unknown key; the standard keeps anything else "
        "under customProperties."
    )
    assert exc.value.messages[-1] == "bad.yaml: and 50 more problems."
