"""A small Mart cataloged in a chosen SQL dialect, and an entity mapped over it: what the dialect
and security stories need, without the demo Mart (the rules here are the point, not the data)."""

from __future__ import annotations

from catalog.models import SourceSystem
from mappings.models import AttributeMapping, EntityMapping
from mappings.services import mapping as services
from workbench.models import Engagement

from ..factories import CatalogColumnFactory, CatalogTableFactory, SourceSystemFactory

# table → [(column, data type)]: a quoted mixed-case key, a keyword and a non-ASCII column
TABLES = {
    "customer": [
        ("customer_id", "INTEGER"),
        ("CustomerKey", "INTEGER"),
        ("birth_date", "VARCHAR(10)"),
        ("order", "INTEGER"),
        ("año_fiscal", "INTEGER"),
        ("full_name", "VARCHAR(100)"),
    ],
    "crm_record": [("customer_id", "INTEGER"), ("segment", "VARCHAR(20)"), ("updated_at", "DATE")],
}


def mart(engagement: Engagement, dialect: str) -> SourceSystem:
    """A source system whose rules are written in `dialect`, with its catalog."""
    source = SourceSystemFactory(engagement=engagement, dialect=dialect, name=f"{dialect} Mart")
    for table_name, columns in TABLES.items():
        table = CatalogTableFactory(source=source, name=table_name)
        for position, (name, data_type) in enumerate(columns, start=1):
            CatalogColumnFactory(table=table, name=name, data_type=data_type, position=position)
    return source


def entity(engagement: Engagement, ba, *, joins: str = "", filter: str = "") -> EntityMapping:
    """The customer entity driven by `customer c`, saved through the mapping service."""
    mapping = EntityMapping.objects.create(engagement=engagement, entity_name="customer")
    for name in ("name", "birth_year", "segment", "fiscal_year", "rank"):
        AttributeMapping.objects.create(
            engagement=engagement, entity_mapping=mapping, attribute_name=name
        )
    return services.entity_mapping_update(
        entity_mapping=mapping,
        data={"driving_table": "customer", "driving_alias": "c", "joins": joins, "filter": filter},
        acting_user=ba,
    )


def rule(entity_mapping: EntityMapping, name: str) -> AttributeMapping:
    return entity_mapping.attributes.get(attribute_name=name)
