"""Fixtures of the mapping stories: the demo contract published and the demo Mart cataloged, the
mapping prepared — the state a Tech BA finds when mapping starts."""

from __future__ import annotations

import pytest

from contracts import services as contract_services
from contracts.demo import DEMO_CONTRACT
from mappings.models import AttributeMapping, EntityMapping
from mappings.services import mapping as services
from tests.catalog.conftest import (  # noqa: F401
    cataloged,
    demo_mart_file,
    etl,
    mart_copy,
    profiled,
    source,
)
from workbench.choices import Role

from ..factories import member


@pytest.fixture
def published(engagement, ba):
    layer = contract_services.contract_import(
        engagement=engagement,
        file_name=DEMO_CONTRACT.name,
        content=DEMO_CONTRACT.read_bytes(),
        acting_user=ba,
    )
    return contract_services.contract_publish(layer=layer, acting_user=ba)


@pytest.fixture
def prepared(published, cataloged, engagement, ba):  # noqa: F811
    services.mapping_prepare(engagement=engagement, acting_user=ba)
    return engagement


@pytest.fixture
def customer(prepared, ba) -> EntityMapping:
    """The customer entity with its FROM clause written."""
    entity = EntityMapping.objects.get(engagement=prepared, entity_name="customer")
    return services.entity_mapping_update(
        entity_mapping=entity,
        data={
            "driving_table": "crm_customer",
            "driving_alias": "c",
            "joins": "LEFT JOIN crm_customer_address a ON a.customer_id = c.customer_id "
            'AND a."order" = 1',
            "filter": "c.status <> 'TEST'",
        },
        acting_user=ba,
    )


def attribute(entity: EntityMapping, name: str) -> AttributeMapping:
    return entity.attributes.get(attribute_name=name)


@pytest.fixture
def etl_dev(engagement):
    return member(engagement, Role.ETL_DEVELOPER, "etl-dev")
