"""Changed since sign-off from per-row hashes: every mapping row carries the hash of its part of
the spec snapshot, kept by every write path; an approval compares it with the hashes it froze, so
the dashboard and the grid of one entity cost the same whatever the engagement's size."""

from __future__ import annotations

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from rest_framework.test import APIClient

from mappings import snapshot
from mappings.models import AttributeMapping, EntityMapping, EntitySpecHash
from mappings.services import mapping as mapping_services
from signoff import selectors, services
from signoff.choices import Gate
from signoff.models import SpecVersionEntity
from workbench.history import fast_bulk_insert_with_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(ready, ba, sme):
    _approve(ready, ba, sme)
    return ready


def _approve(engagement, ba, sme):
    review = services.do_submit_for_review(engagement=engagement, gate=Gate.MAPPING, acting_user=ba)
    services.do_decide(review=review, verdict="approve", acting_user=sme)


def _attribute(engagement, entity, name) -> AttributeMapping:
    return AttributeMapping.objects.get(
        engagement=engagement, entity_mapping__entity_name=entity, attribute_name=name
    )


def _flagged(engagement) -> tuple[set[str], set[tuple[str, str]]]:
    changed = selectors.changed_since_signoff(engagement=engagement)
    entities = {name for name, state in changed["entities"].items() if state["changed"]}
    attributes = {key for key, state in changed["attributes"].items() if state["changed"]}
    return entities, attributes


# --- the hash follows the spec content, and only it -------------------------------------------


@pytest.mark.parametrize("field", snapshot.ATTRIBUTE_SPEC_FIELDS)
def test_an_attribute_hash_changes_with_each_spec_field(field):
    mapping = AttributeMapping(attribute_name="email", lineage=[], lineage_tables=[])
    before = snapshot.mapping_attribute_hash(mapping)
    setattr(mapping, field, ["x.y"] if field.startswith("lineage") else "changed")
    assert snapshot.mapping_attribute_hash(mapping) != before


@pytest.mark.parametrize("field", ["feasibility", "sme_review", "notes"])
def test_an_attribute_hash_changes_only_with_spec_fields(field):
    mapping = AttributeMapping(attribute_name="email", lineage=[], lineage_tables=[])
    before = snapshot.mapping_attribute_hash(mapping)
    setattr(mapping, field, "feasible" if field != "notes" else "A note.")
    changed = snapshot.mapping_attribute_hash(mapping) != before
    assert changed is (field in snapshot.ATTRIBUTE_SPEC_FIELDS)


@pytest.mark.parametrize("field", snapshot.ENTITY_SPEC_FIELDS)
def test_an_entity_hash_changes_with_each_of_its_fields_and_its_attributes(field):
    row = {name: "" for name in snapshot.ENTITY_SPEC_FIELDS}
    before = snapshot.entity_hash(row, {"email": "a"})
    assert snapshot.entity_hash({**row, field: "changed"}, {"email": "a"}) != before
    assert snapshot.entity_hash(row, {"email": "b"}) != before
    assert snapshot.entity_hash(row, {"email": "a", "phone": "a"}) != before


def test_stored_hashes_are_the_hashes_of_the_frozen_snapshot(approved):
    # Given a freshly approved version: its frozen parts' hashes are the rows' stored hashes
    version = selectors.latest_version(engagement=approved)
    for part in SpecVersionEntity.objects.filter(version=version):
        entity = EntityMapping.objects.get(engagement=approved, entity_name=part.entity_name)
        assert entity.spec_state.spec_hash == part.spec_hash == snapshot.part_hashes(part.part)[0]
        stored = dict(entity.attributes.values_list("attribute_name", "spec_hash"))
        assert stored == part.attribute_hashes
        assert part.part == version.snapshot["entities"][part.entity_name]


def test_feasibility_and_sme_review_leave_the_approval_unchanged(approved, etl, sme):
    email = _attribute(approved, "customer", "email")
    customer = email.entity_mapping
    mapping_services.feasibility_set(mapping=email, verdict="feasible", comment="", acting_user=etl)
    mapping_services.feasibility_set(
        mapping=customer, verdict="feasible", comment="", acting_user=etl
    )
    mapping_services.sme_review_set(attribute_mapping=email, state="agreed", acting_user=sme)
    assert selectors.changed_since_signoff(engagement=approved)["changed"] is False


def test_a_stale_entity_saved_for_its_feasibility_keeps_the_hash_of_its_attributes(
    approved, ba, etl
):
    # Given the customer entity read before one of its rules changes
    customer = EntityMapping.objects.get(engagement=approved, entity_name="customer")
    mapping_services.attribute_mapping_update(
        attribute_mapping=_attribute(approved, "customer", "email"),
        data={"edge_cases": "Blank when opted out."},
        acting_user=ba,
    )
    # When its feasibility is saved from that older copy
    mapping_services.feasibility_set(
        mapping=customer, verdict="feasible", comment="", acting_user=etl
    )
    # Then the entity still shows the change
    assert _flagged(approved) == ({"customer"}, {("customer", "email")})


# --- every write path flips exactly what it changed -------------------------------------------


def test_a_service_edit_flips_exactly_that_row(approved, ba):
    mapping_services.attribute_mapping_update(
        attribute_mapping=_attribute(approved, "customer", "email"),
        data={"edge_cases": "Blank when opted out."},
        acting_user=ba,
    )
    assert _flagged(approved) == ({"customer"}, {("customer", "email")})


def test_an_api_patch_flips_exactly_that_row(approved, ba):
    email = _attribute(approved, "customer", "email")
    client = APIClient()
    client.force_authenticate(ba)
    response = client.patch(
        f"/api/v1/engagements/{approved.slug}/attribute-mappings/{email.pk}/",
        {"row_version": email.row_version, "transformation": "LOWER(c.email)"},
        format="json",
    )
    assert response.status_code == 200
    assert _flagged(approved) == ({"customer"}, {("customer", "email")})


def test_an_entity_patch_flips_the_entity_alone(approved, ba):
    campaign = EntityMapping.objects.get(engagement=approved, entity_name="campaign")
    client = APIClient()
    client.force_authenticate(ba)
    response = client.patch(
        f"/api/v1/engagements/{approved.slug}/entity-mappings/{campaign.pk}/",
        {"row_version": campaign.row_version, "notes": "Campaigns of every brand."},
        format="json",
    )
    assert response.status_code == 200
    assert _flagged(approved) == ({"campaign"}, set())
    (change,) = selectors.changed_since_signoff(engagement=approved)["entities"]["campaign"][
        "changes"
    ]
    assert (change["attribute"], change["field"]) == ("", "notes")


def test_a_workbook_import_flips_exactly_the_rows_it_changed(approved, ba):
    from exports.services import spec as spec_services
    from tests.exports.spec.conftest import edit, export_bytes, open_workbook, save

    workbook = open_workbook(export_bytes(approved, ba))
    edit(workbook["Mapping"], ("customer", "phone"), "Edge Cases", "Kept as typed.")
    spec_import = spec_services.spec_import_preview(
        engagement=approved, file_name="edited.xlsx", content=save(workbook), acting_user=ba
    )
    spec_services.spec_import_apply(spec_import=spec_import, acting_user=ba)
    assert _flagged(approved) == ({"customer"}, {("customer", "phone")})


def test_a_from_clause_change_rederiving_every_rule_flips_that_entity_only(approved, ba):
    # Given the rules' lineage before (the bulk re-check writes every rule of the entity at once)
    customer = EntityMapping.objects.get(engagement=approved, entity_name="customer")
    lineage_before = dict(customer.attributes.values_list("attribute_name", "lineage"))

    # When the BA drops the customer's join: every rule over its alias is re-derived in bulk
    mapping_services.entity_mapping_update(
        entity_mapping=customer, data={"joins": ""}, acting_user=ba
    )

    # Then customer is flagged with exactly the rows whose lineage changed, campaign is not
    lineage_after = dict(customer.attributes.values_list("attribute_name", "lineage"))
    rederived = {
        ("customer", name) for name in lineage_after if lineage_after[name] != lineage_before[name]
    }
    assert rederived
    assert _flagged(approved) == ({"customer"}, rederived)


def test_approving_again_clears_the_flags(approved, ba, sme):
    mapping_services.attribute_mapping_update(
        attribute_mapping=_attribute(approved, "customer", "email"),
        data={"edge_cases": "Blank when opted out."},
        acting_user=ba,
    )
    _approve(approved, ba, sme)
    assert _flagged(approved) == (set(), set())
    assert [r["changed_since"] for r in selectors.signoff_table(engagement=approved)] == [
        True,
        False,
    ]


def test_the_data_migration_fills_the_hashes_of_existing_rows_and_versions(approved):
    import importlib

    fill_rows = importlib.import_module("mappings.migrations.0006_spec_hashes").fill_spec_hashes
    fill_parts = importlib.import_module(
        "signoff.migrations.0003_spec_version_entity_hashes"
    ).fill_version_parts
    # Given rows and a version from before the hashes existed
    stored = dict(AttributeMapping.objects.values_list("pk", "spec_hash"))
    entities = dict(EntitySpecHash.objects.values_list("entity_mapping_id", "spec_hash"))
    parts = list(SpecVersionEntity.objects.values_list("entity_name", "spec_hash"))
    AttributeMapping.objects.update(spec_hash="")  # the column as the schema migration adds it
    EntitySpecHash.objects.all().delete()
    SpecVersionEntity.objects.all().delete()

    # When the data migrations run
    fill_rows(django_apps, None)
    fill_parts(django_apps, None)

    # Then every row and version has the hashes the services would have stored
    assert dict(AttributeMapping.objects.values_list("pk", "spec_hash")) == stored
    assert dict(EntitySpecHash.objects.values_list("entity_mapping_id", "spec_hash")) == entities
    assert sorted(SpecVersionEntity.objects.values_list("entity_name", "spec_hash")) == sorted(
        parts
    )
    assert selectors.changed_since_signoff(engagement=approved)["changed"] is False


# --- pages cost the same whatever the size ---------------------------------------------------


def _grow(engagement, ba, entities: int, attributes: int) -> None:
    """Add entity mappings the contract does not have (as an older contract left them), with
    their rows' hashes, through the fast history insert."""
    first = EntityMapping.objects.filter(engagement=engagement).count()
    entity_rows, entity_hashes = [], []
    hashes = {}
    for e in range(first, first + entities):
        own = {"driving_table": f"legacy_{e}", "driving_alias": "t", "status": "mapped"}
        blank = {field: "" for field in snapshot.ATTRIBUTE_SPEC_FIELDS} | {"lineage_tables": []}
        attrs = {
            f"col_{a}": snapshot.attribute_hash(
                blank
                | {"source_columns": f"t.col_{a}", "status": "mapped", "lineage": [f"t.col_{a}"]}
            )
            for a in range(attributes)
        }
        full = {field: "" for field in snapshot.ENTITY_SPEC_FIELDS} | {"frequency": "daily"}
        name = f"legacy_{e}"
        hashes[name] = attrs
        entity_rows.append({"engagement_id": engagement.pk, "entity_name": name, **own})
        entity_hashes.append(snapshot.entity_hash(full | own, attrs))
    ids = fast_bulk_insert_with_history(EntityMapping, entity_rows, acting_user=ba)
    EntitySpecHash.objects.bulk_create(
        EntitySpecHash(entity_mapping_id=pk, spec_hash=spec_hash)
        for pk, spec_hash in zip(ids, entity_hashes, strict=True)
    )
    attribute_rows = [
        {
            "engagement_id": engagement.pk,
            "entity_mapping_id": pk,
            "attribute_name": name,
            "source_columns": f"t.{name}",
            "status": "mapped",
            "lineage": [f"t.{name}"],
            "spec_hash": spec_hash,
        }
        for pk, row in zip(ids, entity_rows, strict=True)
        for name, spec_hash in hashes[row["entity_name"]].items()
    ]
    fast_bulk_insert_with_history(AttributeMapping, attribute_rows, acting_user=ba)


@pytest.mark.parametrize("page", ["engagement-dashboard", "mapping-entity", "signoff-overview"])
def test_the_dashboard_and_an_entity_grid_run_the_same_queries_at_any_size(
    client, ready, ba, sme, django_assert_num_queries, page
):
    def counted_get():
        customer = EntityMapping.objects.get(engagement=ready, entity_name="customer")
        args = [ready.slug, customer.pk] if page == "mapping-entity" else [ready.slug]
        with django_assert_num_queries(queries) if queries else _capture() as captured:
            assert client.get(reverse(page, args=args)).status_code == 200
        return len(captured.captured_queries)

    client.force_login(sme)
    queries = 0
    # Given a small approved engagement with one change since
    _approve(ready, ba, sme)
    mapping_services.attribute_mapping_update(
        attribute_mapping=_attribute(ready, "customer", "email"),
        data={"edge_cases": "Blank when opted out."},
        acting_user=ba,
    )
    queries = counted_get()

    # When it grows tenfold and more, approved again, and changed again
    _grow(ready, ba, entities=20, attributes=30)
    _approve(ready, ba, sme)
    mapping_services.attribute_mapping_update(
        attribute_mapping=_attribute(ready, "customer", "email"),
        data={"edge_cases": "Blank when unsubscribed."},
        acting_user=ba,
    )

    # Then the page runs exactly as many queries
    counted_get()
    assert _flagged(ready)[0] == {"customer"}


def _capture():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    return CaptureQueriesContext(connection)
