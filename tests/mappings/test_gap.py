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


def test_the_gap_comes_most_severe_first_then_by_entity_attribute_and_category(
    customer, ba, etl_dev, monkeypatch
):
    """The GAP is found a chunk of rows at a time and passed on as it is found (the export writes
    it so), yet in one order: most severe first, then by entity, attribute and category — the
    order a sort of the whole list gives. Names are in Python's order (by code point: "Zeta"
    before "alpha", whatever the database's collation); questions on one attribute as they were
    asked; an entity's own items before its attributes'."""
    from simple_history.utils import bulk_create_with_history

    from mappings.models import AttributeMapping, EntityMapping
    from mappings.selectors import gap

    services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "birth_date"),
        data={"source_columns": "c.birth_date"},  # a type mismatch: medium
        acting_user=ba,
    )
    services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "lifecycle_stage"),
        data={"source_columns": "c.status"},  # fed by a nullable column: high
        acting_user=ba,
    )
    services.feasibility_set(
        mapping=attribute(customer, "gender"),
        verdict=Feasibility.NOT_FEASIBLE,
        comment="Not captured by the CRM.",
        acting_user=etl_dev,
    )
    services.comment_add(mapping=customer, text="Which load window?", acting_user=ba)
    for text in ("Asked first: which status means churned?", "Asked second: and TEST rows?"):
        services.comment_add(
            mapping=attribute(customer, "lifecycle_stage"), text=text, acting_user=ba
        )
    # Entities the contract does not know (medium), driven by a table the Mart does not have
    # (high), named so that code point order and a dictionary's order differ.
    extra = [
        EntityMapping(
            engagement=customer.engagement,
            entity_name=name,
            driving_table="gone_table",
            driving_alias="g",
            updated_by=ba,
        )
        for name in ("alpha", "Zeta", "Zeta_b", "Zetab")
    ]
    bulk_create_with_history(extra, EntityMapping, default_user=ba)
    rows = [
        AttributeMapping(
            engagement=customer.engagement,
            entity_mapping=entity,
            attribute_name=name,
            source_columns=f"g.{name}",
            status=MappingStatus.MAPPED,
            lineage=[f"g.{name}"],
            lineage_tables=["gone_table"],
            updated_by=ba,
        )
        for entity in EntityMapping.objects.filter(
            engagement=customer.engagement, driving_alias="g"
        )
        for name in ("b_col", "B_col", "a_col")
    ]
    bulk_create_with_history(rows, AttributeMapping, default_user=ba)

    items = gap_items(engagement=customer.engagement)
    order = sorted(
        items, key=lambda i: (gap.SEVERITY_ORDER[i.severity], i.entity, i.attribute, i.category)
    )
    assert items == order
    assert {i.severity for i in items} == {"high", "medium", "low"}
    high_entities = [i.entity for i in items if i.severity == "high"]
    assert (
        high_entities.index("Zeta")
        < high_entities.index("Zeta_b")
        < high_entities.index("Zetab")
        < high_entities.index("alpha")
        < high_entities.index("customer")
    )
    zeta = [(i.attribute, i.category) for i in items if i.entity == "Zeta" and i.severity == "high"]
    assert zeta[0] == ("", "Source column disappeared")  # the driving table, first
    assert [a for a, _c in zeta[1:]] == ["B_col", "a_col", "b_col"]
    questions = [(i.attribute, i.issue) for i in items if i.category == "Open question"]
    assert [attribute for attribute, _issue in questions] == [
        "",
        "lifecycle_stage",
        "lifecycle_stage",
    ]
    assert "Asked first" in questions[1][1] and "Asked second" in questions[2][1]
    # a chunk of one row, a batch of one lineage: the same GAP, in the same order
    monkeypatch.setattr(gap, "FACTS_CHUNK", 1)
    monkeypatch.setattr(gap, "LINEAGE_BATCH", 1)
    assert gap_items(engagement=customer.engagement) == items
