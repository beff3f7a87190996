"""The BA writes the source understanding: subject area, grain, derivations, gaps, column notes,
and the draft list of interface entities each table will feed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import CatalogTable, ImpactedEntity
from catalog.services import sources as services
from contracts import services as contract_services
from tests.contracts.conftest import DEMO_FILE

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(cataloged):
    return CatalogTable.objects.get(source=cataloged, name="crm_customer")


def test_the_ba_writes_a_tables_understanding_with_history(customer, ba):
    services.table_understanding_update(
        table=customer,
        data={
            "subject_area": " Customer ",
            "grain": "One row per CRM customer record",
            "derivation_notes": "status maintained by the CRM nightly job",
            "gap_notes": "No golden id; duplicates across CRM and web",
        },
        acting_user=ba,
    )

    customer.refresh_from_db()
    assert customer.subject_area == "customer"
    assert customer.grain == "One row per CRM customer record"
    latest = customer.history.first()
    assert (latest.history_user, latest.history_type) == (ba, "~")


def test_structural_fields_cannot_be_changed_as_understanding(customer, ba):
    with pytest.raises(ValidationError) as refused:
        services.table_understanding_update(
            table=customer, data={"name": "renamed"}, acting_user=ba
        )
    assert refused.value.message_dict == {"name": ["This field cannot be changed here."]}


def test_a_column_note_is_saved_only_when_it_changes(customer, ba):
    email = customer.columns.get(name="email")

    services.column_notes_update(column=email, notes="Lower-case it", acting_user=ba)
    services.column_notes_update(column=email, notes="Lower-case it ", acting_user=ba)

    assert email.history.filter(history_type="~").count() == 1


def test_viewers_and_smes_cannot_write_source_notes(customer, viewer, sme):
    for user in (viewer, sme):
        with pytest.raises(PermissionDenied):
            services.table_understanding_update(
                table=customer, data={"grain": "x"}, acting_user=user
            )
        with pytest.raises(PermissionDenied):
            services.impacted_entity_add(table=customer, entity_name="Customer", acting_user=user)


def test_without_a_published_contract_any_entity_name_may_be_drafted(customer, ba):
    link = services.impacted_entity_add(
        table=customer, entity_name="Customer", note="main feed", acting_user=ba
    )

    assert (link.entity_name, link.note, link.history.get().history_user) == (
        "Customer",
        "main feed",
        ba,
    )
    with pytest.raises(ValidationError) as refused:
        services.impacted_entity_add(table=customer, entity_name="Customer", acting_user=ba)
    assert refused.value.messages == ["This table is already linked to that interface entity."]


def test_with_a_published_contract_the_entity_must_be_one_of_its_entities(customer, ba, engagement):
    layer = contract_services.contract_import(
        engagement=engagement,
        file_name=DEMO_FILE.name,
        content=DEMO_FILE.read_bytes(),
        acting_user=ba,
    )
    contract_services.contract_publish(layer=layer, acting_user=ba)

    with pytest.raises(ValidationError) as refused:
        services.impacted_entity_add(table=customer, entity_name="Customer360", acting_user=ba)
    assert refused.value.message_dict["entity_name"][0].startswith(
        "'Customer360' is not an entity of the published Interface Layer (it has: campaign, "
    )
    link = services.impacted_entity_add(table=customer, entity_name="customer", acting_user=ba)
    assert ImpactedEntity.objects.get() == link


def test_removing_a_link_records_who_removed_it(customer, ba):
    link = services.impacted_entity_add(table=customer, entity_name="Customer", acting_user=ba)

    services.impacted_entity_remove(link=link, acting_user=ba)

    assert not ImpactedEntity.objects.exists()
    assert ImpactedEntity.history.filter(history_type="-").get().history_user == ba
