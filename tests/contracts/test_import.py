"""A Tech BA imports the Interface Layer contract: ODCS v3 YAML or JSON, all or nothing."""

from __future__ import annotations

import json

import pytest
import yaml
from django.core.exceptions import ValidationError

from contracts import services
from contracts.choices import LayerStatus, SourceFormat
from contracts.models import (
    InterfaceAttribute,
    InterfaceEntity,
    InterfaceLayer,
    InterfaceRelationship,
)

from .conftest import as_yaml, small_contract

pytestmark = pytest.mark.django_db


def test_the_demo_contract_imports_as_a_draft_with_everything_read(engagement, ba, demo_bytes):
    layer = services.contract_import(
        engagement=engagement,
        file_name="marketing_360.odcs.yaml",
        content=demo_bytes,
        acting_user=ba,
    )

    assert (layer.name, layer.version, layer.status) == (
        "Marketing 360",
        "1.0.0",
        LayerStatus.DRAFT,
    )
    assert layer.source_format == SourceFormat.ODCS_YAML
    assert len(layer.file_hash) == 64
    assert list(layer.entities.values_list("name", flat=True)) == [
        "customer",
        "customer_address",
        "subscription",
        "campaign",
        "email_event",
    ]
    customer = layer.entities.get(name="customer")
    assert customer.physical_name == "if_customer"
    assert customer.grain.startswith("One row per distinct person")
    email = customer.attributes.get(name="email")
    assert email.classification == "PII"
    assert (email.max_length, email.format, email.required) == (254, "email", False)
    assert email.canonical_meaning.startswith("The customer's preferred e-mail address")
    stage = customer.attributes.get(name="lifecycle_stage")
    assert stage.allowed_values == ["prospect", "new", "active", "lapsed", "churned"]
    assert stage.required is True
    key = customer.attributes.get(name="customer_id")
    assert (key.primary_key, key.primary_key_position, key.unique) == (True, 1, True)
    assert (key.physical_type, key.length) == ("VARCHAR(36)", 36)
    value = layer.entities.get(name="subscription").attributes.get(name="monthly_value")
    assert (value.precision, value.scale, value.minimum) == (12, 2, 0)
    relationships = sorted(
        InterfaceRelationship.objects.filter(layer=layer).values_list(
            "from_attribute__entity__name",
            "from_attribute__name",
            "to_attribute__entity__name",
            "to_attribute__name",
            "on_schema",
        )
    )
    assert relationships == [
        ("customer_address", "customer_id", "customer", "customer_id", False),
        ("email_event", "campaign_id", "campaign", "campaign_id", False),
        ("email_event", "customer_id", "customer", "customer_id", False),
        ("subscription", "customer_id", "customer", "customer_id", True),
    ]


def test_history_rows_record_the_importing_user(engagement, ba, small_layer):
    assert small_layer.history.get().history_user == ba
    assert InterfaceEntity.history.filter(layer_id=small_layer.pk, history_user=ba).count() == 2
    assert InterfaceAttribute.history.filter(layer_id=small_layer.pk, history_user=ba).count() == 6
    assert InterfaceRelationship.history.filter(history_user=ba).count() == 1


def test_custom_properties_and_unmodelled_keys_are_kept_as_written(small_layer):
    assert small_layer.extra["customProperties"] == [
        {"property": "owner", "value": "marketing-data"}
    ]
    email = InterfaceAttribute.objects.get(layer=small_layer, name="email")
    assert email.extra == {
        "criticalDataElement": True,
        "customProperties": [{"property": "sensitivity", "value": "high"}],
    }


def test_keys_the_standard_does_not_know_are_refused_all_at_once(engagement, ba):
    # given a contract with an unknown key at the top and on a property, as the standard's own
    # schema refuses them (extensions belong under customProperties)
    document = small_contract(owner="marketing-data")
    document["schema"][0]["properties"][1]["sensitivity"] = "high"

    # when it is imported, then both are named at once and nothing is written
    with pytest.raises(ValidationError) as exc:
        services.contract_import(
            engagement=engagement, file_name="s.yaml", content=as_yaml(document), acting_user=ba
        )
    assert exc.value.messages == [
        "s.yaml: owner: unknown key; the standard keeps anything else under customProperties.",
        "s.yaml: schema[0].properties[1].sensitivity: unknown key; the standard keeps anything "
        "else under customProperties.",
    ]
    assert InterfaceLayer.objects.count() == 0


def test_the_same_contract_in_json_and_in_odcs_v3_0_imports_alike(engagement, ba):
    # given the small contract written for ODCS v3.0.2: library rules are named by `rule`, and
    # relationships did not exist yet
    document = small_contract(apiVersion="v3.0.2")
    status_rule = document["schema"][0]["properties"][2]["quality"][0]
    status_rule["rule"] = status_rule.pop("metric")
    del document["schema"][1]["properties"][1]["relationships"]

    layer = services.contract_import(
        engagement=engagement,
        file_name="small.json",
        content=json.dumps(document).encode(),
        acting_user=ba,
    )

    # then it is read as the v3.1 one is, the rule under its current name
    assert layer.source_format == SourceFormat.ODCS_JSON
    assert layer.attributes.count() == 6
    status = layer.attributes.get(name="status")
    assert (status.allowed_values, status.extra) == (["active", "lapsed"], {})


def test_a_version_already_imported_is_refused(engagement, ba, small_layer):
    with pytest.raises(ValidationError) as exc:
        services.contract_import(
            engagement=engagement,
            file_name="small.yaml",
            content=as_yaml(small_contract()),
            acting_user=ba,
        )

    assert exc.value.messages == [
        "small.yaml: version: version 1.0.0 of Small 360 has already been imported; "
        "import a changed contract under a new version."
    ]
    assert InterfaceLayer.objects.count() == 1


def test_a_member_without_the_right_cannot_import(engagement, sme):
    with pytest.raises(Exception) as exc:
        services.contract_import(
            engagement=engagement,
            file_name="small.yaml",
            content=as_yaml(small_contract()),
            acting_user=sme,
        )

    assert (
        str(exc.value)
        == "Your role in acme-360 does not allow this (import contract); only an Implementation Lead or Tech BA may."
    )
    assert InterfaceLayer.objects.count() == 0


def _document_with(change):
    document = small_contract()
    change(document)
    return as_yaml(document)


def _set(path, value):
    def change(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _pop(path):
    def change(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


BAD_ODCS = [
    pytest.param(
        "bad.yaml",
        b"apiVersion: v3.1.0\nkind: DataContract\n  id: x\n",
        "bad.yaml: line 3, column 5: malformed YAML (mapping values are not allowed "
        + ("in this context)." if yaml.__with_libyaml__ else "here)."),
        id="malformed-yaml",
    ),
    pytest.param(
        "bad.json",
        b'{"apiVersion": "v3.1.0", "kind": }',
        "bad.json: line 1, column 34: malformed JSON (Expecting value).",
        id="malformed-json",
    ),
    pytest.param(
        "bad.yaml",
        _document_with(_pop(["version"])),
        "bad.yaml: version: missing required key.",
        id="missing-top-level-key",
    ),
    pytest.param(
        "bad.yaml",
        _document_with(_pop(["schema", 1, "properties", 0, "name"])),
        "bad.yaml: schema[1].properties[0].name: missing required key.",
        id="missing-property-name",
    ),
    pytest.param(
        "bad.yaml",
        _document_with(_set(["schema", 1, "properties", 2, "logicalType"], "money")),
        "bad.yaml: schema[1].properties[2].logicalType: 'money' is not allowed; expected "
        "one of string, date, timestamp, time, number, integer, object, array, boolean.",
        id="unknown-logical-type",
    ),
    pytest.param(
        "bad.yaml",
        _document_with(_set(["schema", 1, "name"], "customer")),
        "bad.yaml: schema[1].name: duplicate entity name 'customer' (already at schema[0]).",
        id="duplicate-entity",
    ),
    pytest.param(
        "bad.yaml",
        _document_with(_set(["schema", 0, "properties", 2, "name"], "email")),
        "bad.yaml: schema[0].properties[2].name: duplicate attribute name 'email' in entity "
        "'customer' (already at schema[0].properties[1]).",
        id="duplicate-attribute",
    ),
    pytest.param(
        "bad.yaml",
        _document_with(
            _set(
                ["schema", 1, "relationships"],
                [{"type": "foreignKey", "from": "email_event.id", "to": "customer.customer_id"}],
            )
        ),
        "bad.yaml: schema[1].relationships[0].from: the relationship starts at a missing "
        "attribute 'email_event.id'.",
        id="relationship-from-missing-attribute",
    ),
    pytest.param(
        "bad.yaml",
        _document_with(
            _set(
                ["schema", 1, "properties", 1],
                {
                    "name": "customer_id",
                    "logicalType": "string",
                    "primaryKey": True,
                    "primaryKeyPosition": 1,
                },
            )
        ),
        "bad.yaml: schema[1].properties[1].primaryKeyPosition: primary key position 1 is "
        "already taken by 'event_id'.",
        id="primary-key-twice-at-one-position",
    ),
    pytest.param(
        "bad.yaml",
        _document_with(_set(["schema", 0, "properties", 0, "required"], "yes")),
        "bad.yaml: schema[0].properties[0].required: expected true or false, found 'yes'.",
        id="required-not-boolean",
    ),
    pytest.param(
        "bad.yaml",
        _document_with(_set(["apiVersion"], "v2.2.2")),
        "bad.yaml: apiVersion: unsupported ODCS version 'v2.2.2'; expected one of v3.0.0, "
        "v3.0.1, v3.0.2, v3.1.0, v3.2.0.",
        id="odcs-v2",
    ),
    pytest.param(
        "bad.yaml",
        b"- just\n- a list\n",
        "bad.yaml: expected an ODCS data contract (a mapping at the top level).",
        id="not-a-mapping",
    ),
    pytest.param(
        "contract.txt",
        b"hello",
        "contract.txt: unsupported file type; expected .yaml, .yml, .json, .xlsx or .csv.",
        id="wrong-extension",
    ),
    pytest.param("empty.yaml", b"  \n", "empty.yaml: the file is empty.", id="empty"),
]


@pytest.mark.parametrize(("file_name", "content", "message"), BAD_ODCS)
def test_a_bad_file_is_refused_naming_the_place_and_nothing_is_saved(
    engagement, ba, file_name, content, message
):
    with pytest.raises(ValidationError) as exc:
        services.contract_import(
            engagement=engagement, file_name=file_name, content=content, acting_user=ba
        )

    assert exc.value.messages == [message]
    assert InterfaceLayer.objects.count() == 0
    assert InterfaceEntity.objects.count() == 0
    assert InterfaceAttribute.objects.count() == 0
    assert InterfaceLayer.history.count() == 0
    assert InterfaceAttribute.history.count() == 0


YAML_SAMPLES = [
    pytest.param(None, id="demo-contract"),
    pytest.param(
        "a: 1\nb: 1.5\nc: true\nd: ~\ne: 2024-01-31\nf: '007'\ng: [x, 'y', 3]\n", id="types"
    ),
    pytest.param(
        "a: 'true'\nb: \"null\"\nc:\nd: no\ne: Yes\nf: -5\ng: .inf\nh: 0x1A\ni: +1_000\n"
        "j: Name\nk: n/a\nl: '12'\nm: 1e3\nn: ~x\no: off\np: [null, Null, NULL, 'x y']\n"
        "'q': FALSE\n\"r\": .5\n",
        id="plain-and-quoted-scalars",
    ),
    pytest.param("base: &b {x: 1}\nuse: *b\nlist: &l [1, 2]\nagain: *l\n", id="anchors"),
    pytest.param("base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n", id="merge-key-falls-back"),
    pytest.param("a: !!str 12\nb: !!binary aGk=\n", id="explicit-tags-fall-back"),
    pytest.param("? [a, b]\n: 1\n", id="complex-key-falls-back"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("text", YAML_SAMPLES)
def test_the_fast_yaml_loader_reads_what_the_full_loader_reads(text, demo_bytes):
    from contracts.importers.fast_yaml import Fallback, FastYaml, StringDatesLoader
    from contracts.importers.odcs import load_document

    text = demo_bytes.decode() if text is None else text
    try:
        full = yaml.load(text, Loader=StringDatesLoader)  # noqa: S506
    except yaml.constructor.ConstructorError:
        with pytest.raises(Fallback):
            FastYaml().load(text)
        return

    assert load_document("x.yaml", text.encode(), "odcs_yaml") == full
