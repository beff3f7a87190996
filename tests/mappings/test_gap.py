"""The GAP lists what is left: each item with entity, attribute, severity and an action."""

from __future__ import annotations

from catalog.services.sources import catalog_introspect
from contracts.models import InterfaceAttribute
from mappings.choices import Feasibility, MappingStatus
from mappings.selectors.gap import gap_items, gap_summary
from mappings.services import mapping as services

from .conftest import attribute


def _items(engagement, entity=None, attribute_name=None):
    return [
        i
        for i in gap_items(engagement=engagement)
        if (entity is None or i.entity == entity)
        and (attribute_name is None or i.attribute == attribute_name)
    ]


def test_a_fresh_mapping_lists_every_mandatory_attribute_and_entity(prepared):
    items = gap_items(engagement=prepared)
    unmapped = [i for i in items if i.category == "Mandatory attribute unmapped"]
    required = InterfaceAttribute.objects.filter(layer__engagement=prepared, required=True)
    assert len(unmapped) == required.count() == 29
    assert {i.severity for i in unmapped} == {"high"}
    assert len([i for i in items if i.category == "Entity not mapped"]) == 5


def test_mapping_an_attribute_takes_it_off_the_gap(customer, ba):
    assert _items(customer.engagement, "customer", "customer_id")
    services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "customer_id"),
        data={"transformation": "CAST(c.customer_id AS VARCHAR)"},
        acting_user=ba,
    )
    assert not _items(customer.engagement, "customer", "customer_id")


def test_nullable_sources_and_type_mismatches_are_listed(customer, ba):
    services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "lifecycle_stage"),
        data={"source_columns": "c.status"},
        acting_user=ba,
    )
    services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "birth_date"),
        data={"source_columns": "c.birth_date"},
        acting_user=ba,
    )
    [nullable] = _items(customer.engagement, "customer", "lifecycle_stage")
    assert nullable.category == "Required attribute fed by nullable source"
    assert nullable.action == "Add a default value or handle NULLs (COALESCE)."
    [mismatch] = _items(customer.engagement, "customer", "birth_date")
    assert (mismatch.category, mismatch.severity) == ("Type or length mismatch", "medium")


def test_values_outside_the_allowed_list_come_from_the_profile(profiled, published, ba):
    services.mapping_prepare(engagement=published.engagement, acting_user=ba)
    event = published.engagement.entity_mappings.get(entity_name="email_event")
    event = services.entity_mapping_update(
        entity_mapping=event,
        data={"driving_table": "mkt_email_event", "driving_alias": "e"},
        acting_user=ba,
    )
    services.attribute_mapping_update(
        attribute_mapping=attribute(event, "event_type"),
        data={"source_columns": "e.event_type"},
        acting_user=ba,
    )
    values = [
        i.issue
        for i in _items(published.engagement, "email_event", "event_type")
        if i.category == "Allowed values"
    ]
    # one item per profiled value the row warned of when it was saved (the event types arrive
    # in upper case, the contract's are lower case)
    assert len(values) == 5
    assert values[0] == (
        "'SENT' from e.event_type is not one of sent, delivered, opened, clicked, bounced, "
        "unsubscribed, … — 2114 rows in the sample have it."
    )


def test_a_dropped_source_column_is_listed_after_reintrospection(customer, ba, mart_copy, source):
    import sqlite3

    source.url = f"sqlite:///{mart_copy}"
    source.save()
    services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "phone"),
        data={"source_columns": "c.phone"},
        acting_user=ba,
    )
    with sqlite3.connect(mart_copy) as mart:
        mart.execute("ALTER TABLE crm_customer DROP COLUMN phone")
    catalog_introspect(source=source, acting_user=ba)

    [dropped] = _items(customer.engagement, "customer", "phone")
    assert dropped.category == "Source column disappeared"
    assert dropped.issue == "crm_customer: phone no longer in the Mart."


def test_the_gap_read_a_batch_at_a_time_is_the_same_gap(
    customer, ba, mart_copy, source, monkeypatch
):
    """The rules' lineage is checked against the catalog in batches, and the rows the GAP speaks of
    are analysed in chunks (memory holds one batch, one chunk): with batches and chunks of one,
    the GAP is the same."""
    import sqlite3

    from mappings.selectors import gap

    source.url = f"sqlite:///{mart_copy}"
    source.save()
    for name, rule in (("phone", "c.phone"), ("email", "c.email"), ("first_name", "c.first_name")):
        services.attribute_mapping_update(
            attribute_mapping=attribute(customer, name),
            data={"source_columns": rule},
            acting_user=ba,
        )
    with sqlite3.connect(mart_copy) as mart:
        mart.execute("ALTER TABLE crm_customer DROP COLUMN phone")
    catalog_introspect(source=source, acting_user=ba)
    whole = gap_items(engagement=customer.engagement)

    monkeypatch.setattr(gap, "LINEAGE_BATCH", 1)
    assert gap_items(engagement=customer.engagement) == whole
    monkeypatch.setattr(gap, "FACTS_CHUNK", 1)
    assert gap_items(engagement=customer.engagement) == whole
    rows_with_items = {(i.entity, i.attribute) for i in whole if i.attribute}
    assert len(rows_with_items) > 10  # many chunks: unmapped mandatory rows and the dropped one
    dropped = [i for i in whole if i.category == "Source column disappeared"]
    assert [(i.attribute, i.issue) for i in dropped] == [
        ("phone", "crm_customer: phone no longer in the Mart.")
    ]


def test_not_feasible_items_and_open_questions(customer, ba, etl_dev):
    services.feasibility_set(
        mapping=attribute(customer, "gender"),
        verdict=Feasibility.NOT_FEASIBLE,
        comment="Not captured by the CRM.",
        acting_user=etl_dev,
    )
    services.comment_add(mapping=customer, text="Which status means churned?", acting_user=ba)
    items = gap_items(engagement=customer.engagement)
    assert any(i.category == "Not feasible" and i.attribute == "gender" for i in items)
    assert any(i.category == "Open question" and "churned" in i.issue for i in items)
    assert gap_summary(items)["low"] >= 1


def test_an_attribute_dropped_by_a_new_contract_version_is_listed(customer, ba):
    from contracts import services as contract_services
    from contracts.demo import DEMO_CONTRACT

    services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "gender"),
        data={"source_columns": "c.gender"},
        acting_user=ba,
    )
    text = DEMO_CONTRACT.read_text()
    start = text.index("      - name: gender")
    end = text.index("      - name: ", start + 10)
    layer = contract_services.contract_import(
        engagement=customer.engagement,
        file_name="v2.yaml",
        content=(text[:start] + text[end:]).replace("version: 1.0.0", "version: 1.1.0").encode(),
        acting_user=ba,
    )
    contract_services.contract_publish(layer=layer, acting_user=ba)

    [dropped] = _items(customer.engagement, "customer", "gender")
    assert dropped.category == "Contract changed"
    assert dropped.issue == "The published contract no longer has this attribute."
    assert attribute(customer, "gender").status == MappingStatus.MAPPED
