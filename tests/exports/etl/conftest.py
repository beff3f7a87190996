"""Fixtures of the ETL stories: the demo contract published, the demo Mart cataloged and the demo
mapping applied, then completed the way an ETL review would leave it — every required attribute
mapped and children filtered to the parents that are loaded — so a clean run is all green."""

from __future__ import annotations

import pytest

from catalog.demo_mart import build_demo_mart
from catalog.services import sources as catalog_services
from contracts import services as contract_services
from contracts.demo import DEMO_CONTRACT
from mappings.demo import ISO_DATE, apply_demo_mapping
from mappings.models import EntityMapping
from mappings.services import mapping as services
from workbench.choices import Role

from ...factories import member

OPEN_CUSTOMER = "COALESCE(UPPER(c.status), 'ACTIVE') <> 'CLOSED'"
# The Mart's four phone formats rewritten to E.164 (the contract's pattern); see demo_mart._phone.
E164 = (
    "CASE WHEN c.phone LIKE '+44 %' THEN '+44' || SUBSTRING(c.phone, 5, 4) || SUBSTRING(c.phone, 10) "
    "WHEN c.phone LIKE '0044%' THEN '+' || SUBSTRING(c.phone, 3) "
    "WHEN c.phone LIKE '(0%' THEN '+44' || SUBSTRING(c.phone, 3, 4) || SUBSTRING(c.phone, 9, 3) "
    "|| SUBSTRING(c.phone, 13) "
    "WHEN c.phone LIKE '0%' THEN '+44' || SUBSTRING(c.phone, 2) END"
)

# What the review changed on top of the demo mapping (entity → FROM clause, attribute rules).
COMPLETION = {
    "customer": {"from": {}, "attributes": {"phone": (E164, "")}},
    "customer_address": {
        "from": {
            "joins": "JOIN crm_customer c ON c.customer_id = ad.customer_id",
            "filter": OPEN_CUSTOMER,
        },
        "attributes": {},
    },
    "campaign": {
        "from": {},
        "attributes": {
            "campaign_code": (
                "COALESCE(m.campaign_code, 'CMP-NONE-' || CAST(m.campaign_id AS VARCHAR))",
                "",
            ),
        },
    },
    "email_event": {
        "from": {
            "joins": "JOIN crm_customer c ON c.customer_id = e.customer_id",
            "filter": f"e.customer_id IS NOT NULL AND e.campaign_id IS NOT NULL AND {OPEN_CUSTOMER}",
        },
        "attributes": {},
    },
    "subscription": {
        "from": {
            "joins": "JOIN crm_customer c ON c.customer_id = s.customer_id",
            "filter": OPEN_CUSTOMER,
        },
        "attributes": {
            "plan_code": ("'NEWS-' || s.channel_code", ""),
            "status": (
                "CASE WHEN UPPER(s.opt_in_flag) IN ('Y', '1', 'YES') THEN 'active' "
                "ELSE 'cancelled' END",
                "",
            ),
            "start_date": (f"CAST({ISO_DATE.format(col='s.opt_in_date')} AS DATE)", "2000-01-01"),
            "end_date": (f"CAST({ISO_DATE.format(col='s.opt_out_date')} AS DATE)", ""),
        },
    },
}


@pytest.fixture(scope="session")
def demo_mart_file(tmp_path_factory):
    return build_demo_mart(tmp_path_factory.mktemp("etl-mart") / "demo_mart.sqlite3")


@pytest.fixture
def etl(engagement):
    return member(engagement, Role.ETL_DEVELOPER, "etl")


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
def cataloged(engagement, ba, demo_mart_file):
    source = catalog_services.source_system_create(
        engagement=engagement, name="Acme Mart", url=f"sqlite:///{demo_mart_file}", acting_user=ba
    )
    catalog_services.catalog_introspect(source=source, acting_user=ba)
    return source


@pytest.fixture
def demo_mapped(published, cataloged, engagement, ba):
    """The demo mapping exactly as the demo loads it."""
    apply_demo_mapping(engagement, ba)
    return engagement


def complete_mapping(engagement, user) -> None:
    for entity_name, spec in COMPLETION.items():
        entity = EntityMapping.objects.get(engagement=engagement, entity_name=entity_name)
        if spec["from"]:
            entity = services.entity_mapping_update(
                entity_mapping=entity, data=spec["from"], acting_user=user
            )
        for attribute_name, (rule, default) in spec["attributes"].items():
            services.attribute_mapping_update(
                attribute_mapping=entity.attributes.get(attribute_name=attribute_name),
                data={"transformation": rule, "default_value": default},
                acting_user=user,
            )


@pytest.fixture
def mapped(demo_mapped, engagement, ba):
    """A fully mapped engagement whose clean run passes every unit test."""
    complete_mapping(engagement, ba)
    return engagement
