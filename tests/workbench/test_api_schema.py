"""The OpenAPI description tells a client generator the truth: what a list answers (a page or a
plain array), which fields can be null, what a conflict carries, what the errors look like, and
where each operation belongs."""

from __future__ import annotations

from typing import Any

import pytest

TAGS = {
    "Engagements",
    "Contracts",
    "Catalog",
    "Mappings",
    "Sign-off",
    "Exports",
    "Jobs",
    "Notifications",
}
E = "/api/v1/engagements/{engagement_slug}"


@pytest.fixture
def schema(client, ba) -> dict[str, Any]:
    client.force_login(ba)
    answer = client.get("/api/schema/?format=json")
    assert answer.status_code == 200
    return answer.json()


def operations(schema: dict[str, Any]):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def ok_body(schema: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    content = schema["paths"][path][method]["responses"]["200"]["content"]
    return resolve(schema, content["application/json"]["schema"])


def test_a_client_generator_finds_every_operation_summarised_under_its_area(schema):
    seen = list(operations(schema))
    assert len(seen) > 100
    for method, path, operation in seen:
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert operation.get("tags") and set(operation["tags"]) <= TAGS, (method, path)
    assert {tag for *_, op in seen for tag in op["tags"]} == TAGS


def test_lists_that_answer_plain_arrays_are_described_as_arrays_not_pages(schema):
    for path in (
        f"{E}/gap/",
        f"{E}/signoff/versions/{{number}}/diff/",
        f"{E}/signoff/versions/signoff-table/",
        f"{E}/attribute-mappings/{{id}}/suggestions/",
    ):
        assert ok_body(schema, path)["type"] == "array", path
    paged = ok_body(schema, f"{E}/glossary/")
    assert set(paged["required"]) == {"count", "results"}


def test_a_signoff_table_row_is_described_field_by_field(schema):
    row = resolve(schema, ok_body(schema, f"{E}/signoff/versions/signoff-table/")["items"])
    assert {"gate", "version", "approver_username", "verdict", "date", "superseded"} <= set(
        row["properties"]
    )


@pytest.mark.parametrize(
    "component, field",
    [
        ("Comment", "resolved_by"),
        ("UatItem", "owner"),
        ("UatItem", "resolved_by"),
        ("AuditEvent", "actor"),
        ("AuditEvent", "version"),
        ("SpecImport", "decided_by"),
        ("EntityMapping", "updated_by"),
        ("AttributeMapping", "updated_by"),
        ("InterfaceLayer", "published_by"),
        ("Job", "engagement"),
        ("Job", "started_by"),
        ("TestRun", "started_by"),
        ("Notification", "actor"),
        ("CutoverItem", "ticked_by"),
    ],
)
def test_fields_that_can_be_empty_are_nullable(schema, component, field):
    assert schema["components"]["schemas"][component]["properties"][field].get("nullable") is True


def test_a_stale_entity_mapping_edit_documents_the_entity_mapping_it_answers(schema):
    conflict = schema["paths"][f"{E}/entity-mappings/{{id}}/"]["patch"]["responses"]["409"]
    body = resolve(schema, conflict["content"]["application/json"]["schema"])
    assert body["properties"]["current"]["$ref"].endswith("/EntityMapping")
    attribute = schema["paths"][f"{E}/attribute-mappings/{{id}}/"]["patch"]["responses"]["409"]
    body = resolve(schema, attribute["content"]["application/json"]["schema"])
    assert body["properties"]["current"]["$ref"].endswith("/AttributeMapping")


def test_the_contract_export_is_described_as_an_odcs_document(schema):
    answer = schema["paths"][f"{E}/contract/layers/{{id}}/export/"]["get"]["responses"]["200"]
    document = answer["content"]["application/yaml"]["schema"]
    assert document["type"] == "object"
    assert {"apiVersion", "kind", "name", "version"} <= set(document["required"])


def test_error_answers_are_documented_with_the_error_body(schema):
    for method, path, operation in operations(schema):
        responses = operation["responses"]
        assert "403" in responses, (method, path)
        if "{" in path:
            error = resolve(schema, responses["404"]["content"]["application/json"]["schema"])
            assert error["required"] == ["detail"], (method, path)
        if method in {"POST", "PUT", "PATCH"}:
            invalid = responses["400"]["content"]["application/json"]["schema"]
            assert invalid["$ref"].endswith("/ValidationError"), (method, path)
            assert "415" in responses, (method, path)  # DRF's answer to a body it cannot parse
