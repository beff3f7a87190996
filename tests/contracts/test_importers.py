"""The contract parsers on their own: every format gives the same typed records, and writes nothing."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from contracts.importers import (
    SPREADSHEET_HEADER,
    AttributeRecord,
    ContractFileError,
    EntityRecord,
    RelationshipRecord,
    parse_contract,
)


def odcs_document(properties: list[dict]) -> dict:
    """A two-entity contract: `customer`, and `email_event` with `properties`."""
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "urn:test:parsers",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {"name": "customer", "properties": [{"name": "customer_id", "logicalType": "string"}]},
            {"name": "email_event", "properties": properties},
        ],
    }


def odcs_bytes(properties: list[dict]) -> bytes:
    return yaml.safe_dump(odcs_document(properties), sort_keys=False).encode()


def csv_bytes(*rows: list[str]) -> bytes:
    lines = [SPREADSHEET_HEADER, ["customer", "customer_id", "string", "", "", "", "", "", "", ""]]
    return "\n".join(",".join(row) for row in [*lines, *rows]).encode()


STATUS_PROPERTY = {
    "name": "status",
    "description": "Delivery state.",
    "logicalType": "string",
    "physicalType": "VARCHAR(10)",
    "required": True,
    "unique": False,
    "primaryKey": True,
    "primaryKeyPosition": 1,
    "quality": [
        {
            "type": "library",
            "metric": "invalidValues",
            "arguments": {"validValues": ["sent", "bounced"]},
            "mustBe": 0,
        }
    ],
    "customProperties": [{"property": "canonicalMeaning", "value": "Where the e-mail got to."}],
    "relationships": [{"type": "foreignKey", "to": "customer.customer_id"}],
}
STATUS_ROW = [
    "email_event",
    "status",
    "VARCHAR(10)",
    "Y",
    "1",
    "N",
    "sent | bounced",
    "customer.customer_id",
    "Where the e-mail got to.",
    "Delivery state.",
]


def test_an_odcs_property_and_the_same_spreadsheet_row_give_equal_records():
    # given the same attribute written as an ODCS property and as a spreadsheet row
    # when both files are parsed
    from_odcs = parse_contract("c.yaml", odcs_bytes([STATUS_PROPERTY]))
    from_csv = parse_contract("c.csv", csv_bytes(STATUS_ROW))

    # then the attribute, its entity and its relationship are equal records
    expected = AttributeRecord(
        name="status",
        description="Delivery state.",
        logical_type="string",
        physical_type="VARCHAR(10)",
        length=10,
        required=True,
        primary_key=True,
        primary_key_position=1,
        allowed_values=["sent", "bounced"],
        canonical_meaning="Where the e-mail got to.",
    )
    assert from_odcs.entities[1].attributes == (expected,)
    assert from_csv.entities[1].attributes == (expected,)
    assert from_odcs.entities == from_csv.entities
    assert (
        from_odcs.relationships
        == from_csv.relationships
        == (
            RelationshipRecord(
                from_entity="email_event",
                from_attribute="status",
                to_entity="customer",
                to_attribute="customer_id",
            ),
        )
    )


def test_a_record_remembers_where_it_was_read_without_that_changing_its_value():
    # given the same attribute in ODCS and in a spreadsheet
    from_odcs = parse_contract("c.yaml", odcs_bytes([STATUS_PROPERTY]))
    from_csv = parse_contract("c.csv", csv_bytes(STATUS_ROW))

    # then each names its own place, for the error messages of the services
    assert from_odcs.entities[1].place == "schema[1]"
    assert from_odcs.entities[1].attributes[0].place == "schema[1].properties[0]"
    assert from_odcs.relationships[0].place == "schema[1].properties[0].relationships[0].to"
    assert from_csv.entities[1].place == "row 3"
    assert from_csv.entities[1].attributes[0].place == "row 3"
    assert from_csv.relationships[0].place == "row 3, column H (References)"


def test_records_are_frozen():
    # given a parsed attribute
    parsed = parse_contract("c.csv", csv_bytes(STATUS_ROW))
    attribute = parsed.entities[1].attributes[0]

    # when something tries to change it, then it is refused
    with pytest.raises(dataclasses.FrozenInstanceError):
        attribute.name = "state"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.entities[1].name = "event"  # type: ignore[misc]
    assert isinstance(parsed.entities[1], EntityRecord)


def test_odcs_keeps_unmodelled_keys_quality_rules_and_custom_properties_as_written():
    # given a property with a known key we do not model, an extra type option, a quality rule
    # and a custom property
    prop = {
        "name": "sent_at",
        "logicalType": "timestamp",
        "partitioned": True,
        "logicalTypeOptions": {"format": "iso", "timezone": True, "minimum": "2020-01-01"},
        "quality": [{"type": "sql", "query": "SELECT 1", "mustBe": 1}],
        "customProperties": [{"property": "sensitivity", "value": "low"}],
    }

    # when it is parsed from JSON
    parsed = parse_contract("c.json", json.dumps(odcs_document([prop])).encode())

    # then the modelled options are fields and the rest is kept in order for the export
    attribute = parsed.entities[1].attributes[0]
    assert (attribute.format, attribute.minimum) == ("iso", "2020-01-01")
    assert attribute.extra == {
        "partitioned": True,
        "logicalTypeOptions": {"timezone": True},
        "quality": [{"type": "sql", "query": "SELECT 1", "mustBe": 1}],
        "customProperties": [{"property": "sensitivity", "value": "low"}],
    }


def test_a_bare_y_primary_key_takes_the_next_position_and_a_clash_is_named():
    # given two key columns marked Y in one entity
    parsed = parse_contract(
        "c.csv",
        csv_bytes(
            ["email_event", "event_id", "string", "Y", "Y", "Y", "", "", "", ""],
            ["email_event", "sent_at", "timestamp", "Y", "Y", "N", "", "", "", ""],
        ),
    )
    # then they take positions 1 and 2
    positions = [a.primary_key_position for a in parsed.entities[1].attributes]
    assert positions == [1, 2]

    # when a third row claims position 2 explicitly, then the row and column are named
    with pytest.raises(ContractFileError) as exc:
        parse_contract(
            "c.csv",
            csv_bytes(
                ["email_event", "event_id", "string", "Y", "Y", "Y", "", "", "", ""],
                ["email_event", "sent_at", "timestamp", "Y", "Y", "N", "", "", "", ""],
                ["email_event", "channel", "string", "Y", "2", "N", "", "", "", ""],
            ),
        )
    assert exc.value.messages == [
        "c.csv: row 5, column E (Primary Key): primary key position 2 is already taken by "
        "'sent_at'."
    ]


def test_a_property_relationship_with_its_own_from_is_refused_naming_the_path():
    # given a relationship on a property that also names a `from`
    prop = {"name": "customer_id", "relationships": [{"from": "a.b", "to": "customer.customer_id"}]}

    # when it is parsed, then the path of the `from` is named
    with pytest.raises(ContractFileError) as exc:
        parse_contract("c.yaml", odcs_bytes([prop]))
    assert exc.value.messages == [
        "c.yaml: schema[1].properties[0].relationships[0].from: not allowed here."
    ]
