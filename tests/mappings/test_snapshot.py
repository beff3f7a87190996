"""The spec content is defined once (mappings.snapshot): every editable field of a mapping row is
either spec content or deliberately not, and everyone who lists spec fields derives from it."""

from __future__ import annotations

import pytest

from exports.selectors import spec as spec_selectors
from mappings import snapshot
from mappings.demo import apply_demo_mapping
from mappings.models import AttributeMapping, EntityMapping
from mappings.services import mapping as mapping_services
from signoff import selectors as signoff_selectors
from workbench.history import save_with_history


@pytest.mark.parametrize(
    ("model", "spec_fields"),
    [
        (EntityMapping, snapshot.ENTITY_SPEC_FIELDS),
        (AttributeMapping, snapshot.ATTRIBUTE_SPEC_FIELDS),
    ],
)
def test_every_field_is_spec_content_or_explicitly_not(model, spec_fields):
    # Given the concrete fields of the mapping model
    fields = {f.name for f in model._meta.concrete_fields}
    excluded = set(snapshot.NOT_SPEC_CONTENT[model])

    # Then each one is exactly one of: in the snapshot, or in NOT_SPEC_CONTENT with a reason
    assert fields - set(spec_fields) - excluded == set(), "a new field must be classified"
    assert set(spec_fields) & excluded == set()
    assert set(spec_fields) | excluded == fields, "a listed field no longer exists"
    assert all(reason.strip() for reason in snapshot.NOT_SPEC_CONTENT[model].values())


def test_the_update_services_accept_exactly_the_authored_spec_fields():
    assert set(snapshot.ENTITY_SPEC_FIELDS) == mapping_services.ENTITY_FIELDS
    assert set(snapshot.ATTRIBUTE_AUTHORED_FIELDS) == mapping_services.ATTRIBUTE_FIELDS
    assert set(snapshot.ATTRIBUTE_SPEC_FIELDS) == set(snapshot.ATTRIBUTE_AUTHORED_FIELDS) | set(
        snapshot.ATTRIBUTE_DERIVED_FIELDS
    )


def test_the_workbook_reads_every_spec_field():
    assert set(snapshot.ENTITY_SPEC_FIELDS) <= set(spec_selectors.ENTITY_VALUES)
    assert set(snapshot.ATTRIBUTE_SPEC_FIELDS) <= set(spec_selectors.ATTRIBUTE_VALUES)


def test_the_hash_is_the_sha256_of_the_canonical_json():
    # Given two snapshots equal up to key order
    a = {"format": 1, "entities": {"x": {"notes": "é", "status": "draft"}}}
    b = {"entities": {"x": {"status": "draft", "notes": "é"}}, "format": 1}

    # Then their canonical JSON and hash are the same, and the JSON is compact UTF-8
    assert snapshot.canonical_json(a) == snapshot.canonical_json(b)
    assert (
        snapshot.canonical_json(a) == '{"entities":{"x":{"notes":"é","status":"draft"}},"format":1}'
    )
    assert snapshot.content_hash(a) == snapshot.content_hash(b)
    assert len(snapshot.content_hash(a)) == 64


@pytest.mark.django_db
def test_the_streamed_hash_is_the_hash_of_the_whole_snapshot(
    published, cataloged, engagement, ba, monkeypatch
):
    # Given an engagement prepared but not mapped yet, then the demo mapping (joins, lookups,
    # transformations) with a note in other scripts, read a few rows per query
    monkeypatch.setattr(snapshot, "SNAPSHOT_CHUNK_ROWS", 3)
    mapping_services.mapping_prepare(engagement=engagement, acting_user=ba)
    prepared = snapshot.content_hash(snapshot.spec_snapshot(engagement=engagement))
    assert snapshot.snapshot_hash(engagement=engagement) == prepared

    apply_demo_mapping(engagement, ba)
    customer = AttributeMapping.objects.filter(engagement=engagement).order_by("pk").first()
    customer.notes = "Vérifié avec le client → «oui» 😀"
    save_with_history(customer, acting_user=ba)

    # Then the snapshot read a few rows at a time is the one read in one go
    chunked = snapshot.spec_snapshot(engagement=engagement)
    monkeypatch.setattr(snapshot, "SNAPSHOT_CHUNK_ROWS", 100_000)
    assert snapshot.spec_snapshot(engagement=engagement) == chunked
    assert sum(len(part["attributes"]) for part in chunked["entities"].values()) == (
        AttributeMapping.objects.filter(engagement=engagement).count()
    )
    monkeypatch.setattr(snapshot, "SNAPSHOT_CHUNK_ROWS", 3)

    # And the hash computed as the parts stream past is the hash of the snapshot built whole
    whole = snapshot.content_hash(chunked)
    assert whole != prepared
    assert snapshot.snapshot_hash(engagement=engagement) == whole
    assert signoff_selectors.spec_stamp(engagement=engagement).content_hash == whole
