"""Breaking changes between two versions of a contract: every added, removed and changed entity and
attribute is named and graded for consumers and for the load (the producer), and the grades agree
with `datacontract breaking` (datacontract-cli) on the same two files, from both perspectives."""

from __future__ import annotations

import copy

import pytest
import yaml

from contracts import services
from contracts.diff import layer_diff
from tests.conftest import require_module

pytestmark = pytest.mark.django_db

LOYALTY = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "urn:test:loyalty",
    "name": "Loyalty 360",
    "version": "1.0.0",
    "status": "active",
    "schema": [
        {
            "name": "member",
            "physicalName": "if_member",
            "description": "A member of the loyalty scheme.",
            "properties": [
                {
                    "name": "member_id",
                    "logicalType": "string",
                    "physicalType": "VARCHAR(36)",
                    "required": True,
                    "primaryKey": True,
                    "primaryKeyPosition": 1,
                },
                {
                    "name": "email",
                    "logicalType": "string",
                    "logicalTypeOptions": {"maxLength": 254},
                    "unique": True,
                },
                {
                    "name": "tier",
                    "logicalType": "string",
                    "quality": [
                        {
                            "type": "library",
                            "metric": "invalidValues",
                            "arguments": {"validValues": ["silver", "gold", "platinum"]},
                            "mustBe": 0,
                        }
                    ],
                },
                {"name": "nickname", "logicalType": "string", "description": "As they like."},
            ],
        },
        {
            "name": "points_event",
            "properties": [
                {
                    "name": "event_id",
                    "logicalType": "string",
                    "required": True,
                    "primaryKey": True,
                    "primaryKeyPosition": 1,
                },
                {
                    "name": "member_id",
                    "logicalType": "string",
                    "relationships": [{"type": "foreignKey", "to": "member.member_id"}],
                },
                {"name": "points", "logicalType": "integer"},
            ],
        },
    ],
}


def loyalty() -> dict:
    return copy.deepcopy(LOYALTY)


def prop(document: dict, entity: str, attribute: str) -> dict:
    obj = next(o for o in document["schema"] if o["name"] == entity)
    return next(p for p in obj["properties"] if p["name"] == attribute)


def removed_attribute(d):
    d["schema"][0]["properties"] = [p for p in d["schema"][0]["properties"] if p["name"] != "email"]


def type_change(d):
    prop(d, "points_event", "points")["logicalType"] = "number"


def required_added(d):
    prop(d, "member", "nickname")["required"] = True


def allowed_values_narrowed(d):
    prop(d, "member", "tier")["quality"][0]["arguments"]["validValues"] = ["silver", "gold"]


def allowed_values_widened(d):
    prop(d, "member", "tier")["quality"][0]["arguments"]["validValues"].append("bronze")


def optional_attribute_added(d):
    d["schema"][0]["properties"].append({"name": "birth_year", "logicalType": "integer"})


def entity_removed(d):
    d["schema"] = [o for o in d["schema"] if o["name"] != "points_event"]


def unique_dropped(d):
    del prop(d, "member", "email")["unique"]


def max_length_shortened(d):
    prop(d, "member", "email")["logicalTypeOptions"]["maxLength"] = 100


def relationship_removed(d):
    del prop(d, "points_event", "member_id")["relationships"]


def physical_name_changed(d):
    d["schema"][0]["physicalName"] = "if_loyalty_member"


def description_reworded(d):
    prop(d, "member", "nickname")["description"] = "What they like to be called."


def tolerance_granted(d):
    rule = prop(d, "member", "tier")["quality"][0]
    del rule["mustBe"]
    rule.update({"mustBeLessOrEqualTo": 5, "unit": "percent"})


def row_tolerance_granted(d):
    rule = prop(d, "member", "tier")["quality"][0]
    del rule["mustBe"]
    rule["mustBeLessOrEqualTo"] = 10


def key_made_composite(d):
    prop(d, "points_event", "member_id").update({"primaryKey": True, "primaryKeyPosition": 2})


def quality_rule_added(d):
    prop(d, "member", "nickname")["quality"] = [
        {"type": "library", "metric": "nullValues", "mustBeLessThan": 10}
    ]


STORIES = [
    # (story, change, the changes we name, [subject: (consumers, load)])
    (removed_attribute, "- member.email", {"member.email": ("error", "info")}),
    (type_change, "~ points_event.points", {"points_event.points": ("error", "error")}),
    (required_added, "~ member.nickname", {"member.nickname": ("info", "error")}),
    (allowed_values_narrowed, "~ member.tier", {"member.tier": ("info", "error")}),
    (allowed_values_widened, "~ member.tier", {"member.tier": ("error", "info")}),
    (optional_attribute_added, "+ member.birth_year", {"member.birth_year": ("info", "error")}),
    (entity_removed, "- points_event", {"points_event": ("error", "info")}),
    (unique_dropped, "~ member.email", {"member.email": ("error", "info")}),
    (max_length_shortened, "~ member.email", {"member.email": ("info", "error")}),
    (
        relationship_removed,
        "- points_event.member_id → member.member_id",
        {"points_event.member_id → member.member_id": ("error", "info")},
    ),
    (physical_name_changed, "~ member", {"member": ("error", "error")}),
    (description_reworded, "~ member.nickname", {"member.nickname": ("info", "info")}),
    (tolerance_granted, "~ member.tier", {"member.tier": ("warning", "warning")}),
    (row_tolerance_granted, "~ member.tier", {"member.tier": ("error", "info")}),
    (
        key_made_composite,
        "~ points_event.member_id",
        {"points_event.member_id": ("error", "error")},
    ),
    (quality_rule_added, "~ member.nickname", {"member.nickname": ("info", "error")}),
]


def two_versions(engagement, ba, change) -> tuple[dict, dict, object]:
    before, after = loyalty(), loyalty()
    change(after)
    after["version"] = "1.1.0"
    old = services.contract_import(
        engagement=engagement, file_name="v1.yaml", content=_yaml(before), acting_user=ba
    )
    services.contract_publish(layer=old, acting_user=ba)
    new = services.contract_import(
        engagement=engagement, file_name="v2.yaml", content=_yaml(after), acting_user=ba
    )
    return before, after, layer_diff(old=old, new=new)


def _yaml(document: dict) -> bytes:
    return yaml.safe_dump(document, sort_keys=False).encode()


SIGN = {"added": "+", "removed": "-", "changed": "~"}


@pytest.mark.parametrize(
    ("change", "named", "grades"), STORIES, ids=[s[0].__name__ for s in STORIES]
)
def test_each_change_is_named_and_graded_for_consumers_and_for_the_load(
    engagement, ba, no_mapping_provider, change, named, grades
):
    # Given two versions of a contract that differ by one change
    _before, _after, diff = two_versions(engagement, ba, change)

    # Then the diff names it, and grades it for consumers and for the load
    shown = [c for c in diff.changes if not c.carried]
    assert [f"{SIGN[c.action]} {c.subject}" for c in shown] == [named]
    assert {c.subject: (c.consumer.value, c.producer.value) for c in shown} == grades
    assert diff.breaks_consumers == (grades[shown[0].subject][0] == "error")


def test_a_removed_entity_carries_the_grade_of_everything_inside_it(engagement, ba):
    _before, _after, diff = two_versions(engagement, ba, entity_removed)

    carried = [c.subject for c in diff.changes if c.carried]
    assert carried == [
        "points_event.event_id",
        "points_event.member_id",
        "points_event.points",
        "points_event.member_id → member.member_id",
    ]
    assert {c.verdict for c in diff.changes if c.carried} == {"with its entity"}


@pytest.mark.parametrize("change", [s[0] for s in STORIES], ids=[s[0].__name__ for s in STORIES])
def test_the_grades_agree_with_datacontract_breaking_on_the_same_files(
    engagement, ba, tmp_path, no_mapping_provider, change
):
    data_contract = require_module("datacontract.data_contract")
    # Given the two files the workbench imported
    before, after, diff = two_versions(engagement, ba, change)
    (tmp_path / "v1.yaml").write_bytes(_yaml(before))
    (tmp_path / "v2.yaml").write_bytes(_yaml(after))

    for perspective in ("consumer", "producer"):
        # When datacontract-cli grades the same pair
        result = data_contract.DataContract(data_contract_file=str(tmp_path / "v1.yaml")).breaking(
            data_contract.DataContract(data_contract_file=str(tmp_path / "v2.yaml")),
            perspective=perspective,
        )
        theirs = _worst_by_owner((e.path, e.level.value) for e in result.entries)
        ours = _worst_by_owner(
            (_path(c), getattr(c, perspective).value) for c in diff.changes if not c.carried
        )
        # Then every entity and attribute has the same grade, and so has the whole change
        assert ours == theirs, perspective
        assert result.is_breaking == any(level == "error" for level in ours.values())


def _path(change) -> str:
    """Where datacontract-cli reports a change: under its entity, or its attribute."""
    if change.attribute:
        return f"schema.{change.entity}.properties.{change.attribute}"
    return f"schema.{change.entity}"


def _worst_by_owner(graded) -> dict[str, str]:
    """The worst grade per entity or attribute; grades below error and warning left out."""
    rank = {"info": 0, "warning": 1, "error": 2}
    worst: dict[str, str] = {}
    for path, level in graded:
        parts = path.split(".")
        if parts[0] != "schema":
            continue  # the contract's own fields (version): names for people
        owner = ".".join(parts[:4] if len(parts) > 3 and parts[2] == "properties" else parts[:2])
        if rank[level] > rank[worst.get(owner, "info")]:
            worst[owner] = level
    return worst
