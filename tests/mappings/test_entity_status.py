"""An entity's status follows its attributes: all done → Mapped, some → Draft (in progress), none
→ Unmapped; Blocked is a decision and stays. The overview, the grid header and the snapshot the
SME approves read the same value; existing rows are derived by a migration, in history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mappings.choices import EntityStatus, MappingStatus
from mappings.demo import apply_demo_mapping
from mappings.models import EntityMapping
from mappings.services import mapping as services
from mappings.snapshot import spec_snapshot
from mappings.status import entity_status_derived
from tests.migrations import latest_migrations, migrate_to

from .conftest import attribute


@pytest.fixture
def mapped_customer(prepared, ba) -> EntityMapping:
    """The demo mapping of customer: every one of its attributes done."""
    apply_demo_mapping(prepared, ba, entities=["customer"])
    return EntityMapping.objects.get(engagement=prepared, entity_name="customer")


@pytest.mark.parametrize(
    ("total", "done", "has_from", "status"),
    [
        (12, 12, True, EntityStatus.MAPPED),
        (12, 3, True, EntityStatus.DRAFT),
        (12, 3, False, EntityStatus.DRAFT),
        (12, 0, True, EntityStatus.DRAFT),  # the FROM clause is written: work has started
        (12, 0, False, EntityStatus.UNMAPPED),
        (0, 0, False, EntityStatus.UNMAPPED),
    ],
)
def test_the_status_an_entitys_attributes_give_it(total, done, has_from, status):
    assert entity_status_derived(total=total, done=done, has_from=has_from) == status


def test_an_entity_with_every_attribute_done_is_mapped_everywhere(client, mapped_customer, viewer):
    # Given every attribute of customer mapped (or defaulted, or not applicable)
    statuses = set(mapped_customer.attributes.values_list("status", flat=True))
    assert statuses <= {
        MappingStatus.MAPPED,
        MappingStatus.DEFAULT_ONLY,
        MappingStatus.NOT_APPLICABLE,
    }
    # Then the entity is Mapped, with its history naming the BA
    assert mapped_customer.status == EntityStatus.MAPPED
    assert mapped_customer.history.latest().history_user.username == "ba"
    # And the overview, the grid header and the snapshot agree
    client.force_login(viewer)
    overview = client.get(reverse("mapping-overview", args=["acme-360"])).content.decode()
    row = overview.split('<tr data-entity="customer">')[1].split("</tr>")[0]
    assert '<span class="badge st-mapped">Mapped</span>' in row
    grid = client.get(
        reverse("mapping-entity", args=["acme-360", mapped_customer.pk])
    ).content.decode()
    header = grid.split('<div class="page-head">')[1].split("</h1>")[1].split("</p>")[0]
    assert '<span class="badge st-mapped">Mapped</span>' in header
    snapshot = spec_snapshot(engagement=mapped_customer.engagement, entities=["customer"])
    assert snapshot["entities"]["customer"]["status"] == EntityStatus.MAPPED


def test_clearing_one_rule_puts_the_entity_back_in_progress(mapped_customer, ba):
    # When the BA clears the rule of one optional attribute
    phone = attribute(mapped_customer, "phone")
    services.attribute_mapping_update(
        attribute_mapping=phone,
        data={"source_columns": "", "transformation": "", "default_value": ""},
        acting_user=ba,
    )
    mapped_customer.refresh_from_db()
    # Then the entity is Draft again, one more version, in history
    assert mapped_customer.status == EntityStatus.DRAFT
    assert mapped_customer.history.latest().status == EntityStatus.DRAFT
    # And mapping it again makes it Mapped
    services.attribute_mapping_update(
        attribute_mapping=phone, data={"source_columns": "c.phone"}, acting_user=ba
    )
    mapped_customer.refresh_from_db()
    assert mapped_customer.status == EntityStatus.MAPPED


def test_blocked_is_a_decision_that_attribute_changes_keep(mapped_customer, ba):
    # Given the BA blocked customer
    services.entity_mapping_update(
        entity_mapping=mapped_customer, data={"status": EntityStatus.BLOCKED}, acting_user=ba
    )
    # When an attribute changes
    services.attribute_mapping_update(
        attribute_mapping=attribute(mapped_customer, "phone"),
        data={"source_columns": "", "transformation": "", "default_value": ""},
        acting_user=ba,
    )
    mapped_customer.refresh_from_db()
    # Then it is still Blocked
    assert mapped_customer.status == EntityStatus.BLOCKED
    # And lifting the block (choosing any other status) gives the status its attributes give
    services.entity_mapping_update(
        entity_mapping=mapped_customer, data={"status": EntityStatus.MAPPED}, acting_user=ba
    )
    mapped_customer.refresh_from_db()
    assert mapped_customer.status == EntityStatus.DRAFT


def test_a_status_typed_by_hand_gives_way_to_the_attributes(prepared, ba):
    # Given campaign with nothing mapped
    campaign = EntityMapping.objects.get(engagement=prepared, entity_name="campaign")
    # When someone sets it Mapped by hand
    services.entity_mapping_update(
        entity_mapping=campaign, data={"status": EntityStatus.MAPPED}, acting_user=ba
    )
    campaign.refresh_from_db()
    # Then its attributes decide: nothing is mapped
    assert campaign.status == EntityStatus.UNMAPPED


def test_new_attributes_from_the_contract_put_a_mapped_entity_back_in_progress(mapped_customer, ba):
    # Given one attribute row of customer is missing (as when the contract gained it)
    attribute(mapped_customer, "phone").delete()
    services.entity_mapping_update(
        entity_mapping=mapped_customer, data={"notes": "12 of 12 minus one"}, acting_user=ba
    )
    mapped_customer.refresh_from_db()
    assert mapped_customer.status == EntityStatus.MAPPED
    # When the mapping is prepared again, adding the missing row
    services.mapping_prepare(engagement=mapped_customer.engagement, acting_user=ba)
    mapped_customer.refresh_from_db()
    # Then the entity is in progress again
    assert mapped_customer.status == EntityStatus.DRAFT


@pytest.mark.django_db(transaction=True)
def test_the_migration_derives_the_status_of_existing_entities_in_history(mapped_customer):
    # Given rows written before the status was derived: customer fully mapped but stored Unmapped,
    # campaign blocked
    EntityMapping.objects.filter(pk=mapped_customer.pk).update(status=EntityStatus.UNMAPPED)
    EntityMapping.objects.filter(entity_name="campaign").update(status=EntityStatus.BLOCKED)
    history_before = mapped_customer.history.count()
    # When the migration runs again
    migrate_to([("mappings", "0004_load_strategies")])
    migrate_to(latest_migrations())
    # Then customer reads Mapped, with one more version recorded in history
    mapped_customer.refresh_from_db()
    assert mapped_customer.status == EntityStatus.MAPPED
    assert mapped_customer.history.count() == history_before + 1
    latest = mapped_customer.history.latest()
    assert (latest.status, latest.history_change_reason) == (
        EntityStatus.MAPPED,
        "Status derived from its attributes",
    )
    # And the decision on campaign is kept
    assert EntityMapping.objects.get(entity_name="campaign").status == EntityStatus.BLOCKED
