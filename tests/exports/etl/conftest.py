"""Fixtures of the ETL stories: the demo contract published, the demo Mart cataloged and the demo
mapping applied, then completed the way an ETL review would leave it — every required attribute
mapped and children filtered to the parents that are loaded — so a clean run is all green."""

from __future__ import annotations

import re

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

# What the review added on top of the demo mapping: the subscription's required attributes, from
# what the Mart has (the demo leaves them open: plans live in the billing system). Customers are
# all loaded (churned ones too), so no child needs filtering to its parent.
COMPLETION = {
    "subscription": {
        "from": {},
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


# The demo mapping's first draft, before its first test run: closed customers filtered out while
# their addresses and events are loaded (foreign-key orphans), phones copied as typed (the
# contract's E.164 pattern), a shared 'UNKNOWN' for missing campaigns and campaign codes. The
# stories of failing unit tests (samples, routing, UAT feedback) run on it; the demo itself is clean.
FIRST_DRAFT = {
    "customer": {
        "from": {"filter": "COALESCE(UPPER(c.status), 'ACTIVE') <> 'CLOSED'"},
        "attributes": {"phone": ("c.phone", "")},
    },
    "campaign": {"from": {}, "attributes": {"campaign_code": ("m.campaign_code", "UNKNOWN")}},
    "email_event": {
        "from": {"filter": "e.customer_id IS NOT NULL"},
        "attributes": {"campaign_id": ("CAST(e.campaign_id AS VARCHAR)", "UNKNOWN")},
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


def complete_mapping(engagement, user, changes: dict | None = None) -> None:
    for entity_name, spec in (COMPLETION if changes is None else changes).items():
        entity = EntityMapping.objects.get(engagement=engagement, entity_name=entity_name)
        if spec["from"]:
            entity = services.entity_mapping_update(
                entity_mapping=entity, data=spec["from"], acting_user=user
            )
        for attribute_name, (rule, default) in spec["attributes"].items():
            services.attribute_mapping_update(
                attribute_mapping=entity.attributes.get(attribute_name=attribute_name),
                data={
                    # a bare alias.column is a direct move, anything else a transformation
                    **(
                        {"source_columns": rule, "transformation": ""}
                        if re.fullmatch(r"\w+\.\w+", rule)
                        else {"transformation": rule}
                    ),
                    "default_value": default,
                },
                acting_user=user,
            )


@pytest.fixture
def mapped(demo_mapped, engagement, ba):
    """A fully mapped engagement whose clean run passes every unit test."""
    complete_mapping(engagement, ba)
    return engagement


@pytest.fixture
def first_draft(demo_mapped, engagement, ba):
    """The demo mapping as first drafted: its test run fails (see FIRST_DRAFT)."""
    complete_mapping(engagement, ba, FIRST_DRAFT)
    return engagement
