"""Spec versions: submitting freezes the mapping into an immutable, numbered, hashed snapshot;
diffs field by field between versions and against the working mapping."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mappings.models import EntityMapping
from mappings.services import mapping as mapping_services
from signoff import selectors, services
from signoff.choices import AuditKind, Gate
from signoff.models import AuditEvent, SpecVersion
from signoff.selectors import FieldChange

pytestmark = pytest.mark.django_db


def _email(engagement):
    return EntityMapping.objects.get(engagement=engagement, entity_name="customer").attributes.get(
        attribute_name="email"
    )


def test_submitting_freezes_the_whole_mapping_with_contract_and_catalog_columns(ready, ba):
    # When the Tech BA submits the mapping for the mapping sign-off
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)

    # Then version 1 holds every entity with its FROM clause and each attribute's rule
    version = review.version
    assert version.number == 1
    assert version.entities == []
    snapshot = version.snapshot
    assert snapshot["contract"] == {"name": "Marketing 360", "version": "1.0.0"}
    assert version.contract_name == "Marketing 360"
    customer = snapshot["entities"]["customer"]
    assert customer["driving_table"] == "crm_customer"
    assert customer["driving_alias"] == "c"
    assert customer["filter"] == ""  # closed customers are loaded too, as churned
    assert customer["frequency"] == "daily"
    assert customer["attributes"]["email"] == {
        "source_columns": "",
        "transformation": "LOWER(TRIM(c.email))",
        "default_value": "",
        "edge_cases": "NULL email stays NULL (about 4%).",
        "notes": "",
        "status": "mapped",
        "lineage": ["c.email"],
        "lineage_tables": ["crm_customer"],
    }
    # the catalog columns used, resolved from the lineage's aliases (joins included)
    assert "crm_customer.email" in snapshot["catalog_columns"]
    assert "crm_subscription.opt_in_flag" in snapshot["catalog_columns"]
    assert "mkt_campaign.campaign_code" in snapshot["catalog_columns"]
    # and the hash is the SHA-256 of the canonical JSON
    assert version.content_hash == selectors.content_hash(snapshot)
    assert len(version.content_hash) == 64
    # with the submission in the audit trail and in history
    kinds = list(AuditEvent.objects.filter(engagement=ready).values_list("kind", flat=True))
    assert kinds == [AuditKind.REVIEW_REQUESTED, AuditKind.VERSION_SUBMITTED]
    assert version.history.get().history_user == ba


def test_the_hash_is_canonical_whatever_the_key_order():
    a = {"entities": {"x": {"b": 1, "a": [1, 2]}}, "format": 1}
    b = {"format": 1, "entities": {"x": {"a": [1, 2], "b": 1}}}
    assert selectors.content_hash(a) == selectors.content_hash(b)
    assert selectors.content_hash(a) != selectors.content_hash({**a, "format": 2})


def test_versions_are_numbered_per_engagement_and_nothing_changed_reuses_the_latest(ready, ba):
    first = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    # Submitting again, unchanged, for another gate reviews the same version 1
    again = services.do_submit_for_review(engagement=ready, gate=Gate.UAT, acting_user=ba)
    assert again.version == first.version
    # A chosen-entities submission is a new version 2 with only those entities
    partial = services.do_submit_for_review(
        engagement=ready, gate=Gate.MAPPING, entities=["campaign"], acting_user=ba
    )
    assert partial.version.number == 2
    assert partial.version.entities == ["campaign"]
    assert list(partial.version.snapshot["entities"]) == ["campaign"]
    assert SpecVersion.objects.filter(engagement=ready).count() == 2


def test_submitting_is_refused_for_unknown_entities_without_mapping_and_for_a_viewer(
    engagement, ready, ba, viewer, sme
):
    with pytest.raises(ValidationError) as refused:
        services.do_submit_for_review(
            engagement=ready, gate=Gate.MAPPING, entities=["customer", "planet"], acting_user=ba
        )
    assert refused.value.message_dict == {"entities": ["Not an entity of the mapping: planet."]}
    with pytest.raises(PermissionDenied) as denied:
        services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=viewer)
    assert (
        str(denied.value)
        == "Your role in acme-360 does not allow this (submit for review); only an Implementation Lead or Tech BA may."
    )
    with pytest.raises(PermissionDenied):
        services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=sme)
    assert not SpecVersion.objects.exists()


def test_nothing_to_submit_before_the_mapping_is_prepared(engagement, ba):
    with pytest.raises(ValidationError) as refused:
        services.do_submit_version(engagement=engagement, acting_user=ba)
    assert refused.value.messages == [
        "There is no mapping to submit yet: prepare the mapping first."
    ]


def test_a_gate_without_a_named_owner_cannot_be_requested(mapped, ba):
    with pytest.raises(ValidationError) as refused:
        services.do_submit_for_review(engagement=mapped, gate=Gate.MAPPING, acting_user=ba)
    assert refused.value.message_dict == {
        "gate": ["Nobody is named to give the Mapping sign-off: name its owner first."]
    }
    assert not SpecVersion.objects.exists()  # the freeze rolled back with the refusal


def test_diff_between_versions_and_against_the_working_mapping_field_by_field(ready, ba):
    v1 = services.do_submit_version(engagement=ready, acting_user=ba)
    email = _email(ready)
    mapping_services.attribute_mapping_update(
        attribute_mapping=email,
        data={"transformation": "LOWER(c.email)", "edge_cases": ""},
        acting_user=ba,
    )
    # Against the working mapping
    changes = selectors.version_diff(version=v1)
    assert changes == [
        FieldChange(
            "customer", "email", "transformation", "LOWER(TRIM(c.email))", "LOWER(c.email)"
        ),
        FieldChange("customer", "email", "edge_cases", "NULL email stays NULL (about 4%).", ""),
    ]
    # Between two versions
    v2 = services.do_submit_version(engagement=ready, acting_user=ba)
    assert selectors.version_diff(version=v1, against=v2) == changes
    assert selectors.version_diff(version=v2) == []


def test_diff_reports_entities_and_attributes_that_appear_or_disappear():
    before = {"contract": None, "entities": {"a": {"attributes": {"x": {}}}}}
    after = {
        "contract": None,
        "entities": {"a": {"attributes": {"y": {}}}, "b": {"attributes": {}}},
    }
    assert selectors.diff_snapshots(before, after) == [
        FieldChange("a", "x", "mapping", "present", None),
        FieldChange("a", "y", "mapping", None, "present"),
        FieldChange("b", "", "mapping", None, "present"),
    ]
