"""Fixtures of the sign-off stories: the demo contract published, the demo Mart cataloged, the
customer and campaign entities mapped by the Tech BA, and the named sign-off owners — the SME owns
the mapping sign-off, Client Ops the ETL (UAT) sign-off."""

from __future__ import annotations

import pytest

from catalog.demo_mart import build_demo_mart
from catalog.services import sources as catalog_services
from contracts import services as contract_services
from contracts.demo import DEMO_CONTRACT
from mappings.demo import apply_demo_mapping
from workbench import services as workbench_services
from workbench.choices import Role, SignoffGate

from ..factories import member

MAPPED = ["customer", "campaign"]


@pytest.fixture(scope="session")
def demo_mart_file(tmp_path_factory):
    return build_demo_mart(tmp_path_factory.mktemp("mart") / "demo_mart.sqlite3")


@pytest.fixture
def etl(engagement):
    return member(engagement, Role.ETL_DEVELOPER, "etl")


@pytest.fixture
def ops(engagement):
    return member(engagement, Role.CLIENT_OPS, "ops")


@pytest.fixture
def other_sme(engagement):
    return member(engagement, Role.CLIENT_SME, "sme2")


@pytest.fixture
def owners(engagement, lead, sme, ops):
    """The SME owns the mapping sign-off, Client Ops the ETL (UAT) sign-off."""
    workbench_services.signoff_owner_set(
        engagement=engagement, gate=SignoffGate.MAPPING, username=sme.username, acting_user=lead
    )
    workbench_services.signoff_owner_set(
        engagement=engagement, gate=SignoffGate.ETL, username=ops.username, acting_user=lead
    )
    return {"mapping": sme, "etl": ops}


@pytest.fixture
def mapped(engagement, ba, demo_mart_file):
    """The contract published, the Mart cataloged, customer and campaign mapped."""
    layer = contract_services.contract_import(
        engagement=engagement,
        file_name=DEMO_CONTRACT.name,
        content=DEMO_CONTRACT.read_bytes(),
        acting_user=ba,
    )
    contract_services.contract_publish(layer=layer, acting_user=ba)
    source = catalog_services.source_system_create(
        engagement=engagement, name="Acme Mart", url=f"sqlite:///{demo_mart_file}", acting_user=ba
    )
    catalog_services.catalog_introspect(source=source, acting_user=ba)
    apply_demo_mapping(engagement, ba, entities=MAPPED)
    return engagement


@pytest.fixture
def ready(mapped, owners, etl, viewer, lead, ba, sme, ops):
    """Everything a walk through the gates needs."""
    return mapped
