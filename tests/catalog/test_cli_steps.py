"""Source understanding from the command line: describing a cataloged table and linking it to the
interface entities it feeds, found as `[schema.]table`; refused for a role that may not."""

from __future__ import annotations

import pytest

from catalog.models import CatalogTable, ImpactedEntity
from catalog.phases import impacted_entities_state, source_notes_state
from contracts import services as contract_services
from tests.clirun import run_cli
from workbench.choices import Role
from workbench.phases import OutputStatus

from ..contracts.conftest import as_yaml, small_contract
from ..factories import CatalogTableFactory, SourceSystemFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cli(capsys, monkeypatch):
    return lambda *argv: run_cli(capsys, monkeypatch, *argv)


@pytest.fixture
def tables(engagement):
    """crm.customer and crm.email_event in the Acme Mart."""
    mart = SourceSystemFactory(engagement=engagement, name="Acme Mart")
    return [
        CatalogTableFactory(source=mart, schema="crm", name="customer"),
        CatalogTableFactory(source=mart, schema="crm", name="email_event"),
    ]


@pytest.fixture
def published(engagement, ba):
    """The small contract (entities customer and email_event) published."""
    layer = contract_services.contract_import(
        engagement=engagement,
        file_name="small.yaml",
        content=as_yaml(small_contract()),
        acting_user=ba,
    )
    return contract_services.contract_publish(layer=layer, acting_user=ba)


def test_the_ba_describes_every_table_and_the_source_notes_are_done(cli, engagement, ba, tables):
    described = cli(
        "describe_table", "--engagement", "acme-360", "--as", "ba", "--format", "json",
        "crm.customer", "--subject-area", "Customer", "--grain", "one row per customer",
        "--derivation-notes", "lifetime value computed nightly",
    )  # fmt: skip
    assert source_notes_state(engagement).status == OutputStatus.IN_PROGRESS
    plain = cli(
        "describe_table", "--engagement", "acme-360", "--as", "ba", "EMAIL_EVENT",
        "--subject-area", "engagement", "--grain", "one row per email sent",
    )  # fmt: skip

    assert described.code == 0, described.err
    assert described.json() == {
        "engagement": "acme-360",
        "table": "crm.customer",
        "source": "Acme Mart",
        "subject_area": "customer",
        "grain": "one row per customer",
        "derivation_notes": "lifetime value computed nightly",
        "gap_notes": "",
        "notes": "",
    }
    assert plain.code == 0, plain.err
    assert (
        plain.out == "crm.email_event: subject area 'engagement', grain 'one row per email sent'\n"
    )
    assert source_notes_state(engagement).status == OutputStatus.DONE
    customer = CatalogTable.objects.get(name="customer")
    assert customer.history.latest().history_user == ba


def test_only_the_options_given_change(cli, engagement, ba, tables):
    customer = tables[0]
    customer.subject_area, customer.grain = "customer", "one row per customer"
    customer.save()

    done = cli(
        "describe_table", "--engagement", "acme-360", "--as", "ba", "crm.customer",
        "--gap-notes", "no opt-out date",
    )  # fmt: skip
    nothing = cli("describe_table", "--engagement", "acme-360", "--as", "ba", "crm.customer")

    customer.refresh_from_db()
    assert done.code == 0, done.err
    assert (customer.subject_area, customer.grain, customer.gap_notes) == (
        "customer",
        "one row per customer",
        "no opt-out date",
    )
    assert nothing.code == 2
    assert "Say what to record" in nothing.err


def test_a_viewer_may_not_describe_a_table(cli, engagement, viewer, tables):
    refused = cli(
        "describe_table", "--engagement", "acme-360", "--as", "viewer", "crm.customer",
        "--grain", "one row per customer",
    )  # fmt: skip

    assert refused.code == 1
    assert "does not allow this (write notes)" in refused.err
    assert CatalogTable.objects.get(name="customer").grain == ""


def test_a_table_name_in_two_schemas_must_be_qualified(cli, engagement, ba, tables):
    other = SourceSystemFactory(engagement=engagement, name="Sales Mart")
    CatalogTableFactory(source=other, schema="sales", name="customer")

    ambiguous = cli(
        "describe_table", "--engagement", "acme-360", "--as", "ba", "customer", "--grain", "x"
    )
    by_source = cli(
        "describe_table", "--engagement", "acme-360", "--as", "ba", "customer", "--source",
        "sales mart", "--grain", "one row per sales customer",
    )  # fmt: skip
    unknown = cli(
        "describe_table", "--engagement", "acme-360", "--as", "ba", "crm.orders", "--grain", "x"
    )

    assert ambiguous.code == 1
    assert (
        "'customer' names several tables: crm.customer (Acme Mart), sales.customer (Sales Mart); "
        "qualify it as schema.table or add --source."
    ) in ambiguous.err
    assert by_source.code == 0, by_source.err
    assert CatalogTable.objects.get(schema="sales").grain == "one row per sales customer"
    assert CatalogTable.objects.get(schema="crm", name="customer").grain == ""
    assert unknown.code == 1
    assert "acme-360 has no cataloged table 'crm.orders'" in unknown.err


def test_another_engagements_table_is_not_found(cli, engagement, ba, tables, outsider):
    """The outsider is a Tech BA elsewhere: acme's tables are neither described nor named."""
    refused = cli(
        "describe_table", "--engagement", "acme-360", "--as", "outsider", "crm.customer",
        "--grain", "x",
    )  # fmt: skip

    assert refused.code == 1
    assert "does not allow this (view)" in refused.err
    assert "crm.customer" not in refused.err


def test_the_etl_developer_links_tables_to_the_entities_they_feed(
    cli, engagement, ba, tables, published
):
    etl = member(engagement, Role.ETL_DEVELOPER, "etl")
    first = cli(
        "add_impacted_entity", "--engagement", "acme-360", "--as", "etl", "--format", "json",
        "crm.customer", "customer", "--note", "golden record",
    )  # fmt: skip
    assert impacted_entities_state(engagement).status == OutputStatus.IN_PROGRESS
    second = cli(
        "add_impacted_entity", "--engagement", "acme-360", "--as", "etl", "crm.email_event",
        "email_event",
    )  # fmt: skip

    assert first.code == 0, first.err
    assert first.json() == {
        "engagement": "acme-360",
        "id": ImpactedEntity.objects.get(entity_name="customer").pk,
        "table": "crm.customer",
        "source": "Acme Mart",
        "entity": "customer",
        "note": "golden record",
    }
    assert (second.code, second.out) == (0, "crm.email_event feeds email_event\n")
    assert impacted_entities_state(engagement).status == OutputStatus.DONE
    assert ImpactedEntity.history.filter(history_user=etl).count() == 2


def test_an_entity_outside_the_published_contract_or_a_second_link_is_refused(
    cli, engagement, ba, tables, published
):
    link = (
        "add_impacted_entity", "--engagement", "acme-360", "--as", "ba", "crm.customer",
    )  # fmt: skip
    assert cli(*link, "customer").code == 0

    unknown = cli(*link, "household")
    again = cli(*link, "customer")

    assert unknown.code == 1
    assert "'household' is not an entity of the published Interface Layer" in unknown.err
    assert again.code == 1
    assert "This table is already linked to that interface entity." in again.err
    assert ImpactedEntity.objects.count() == 1


def test_a_client_sme_may_not_link_a_table(cli, engagement, sme, tables):
    refused = cli(
        "add_impacted_entity", "--engagement", "acme-360", "--as", "sme", "crm.customer",
        "customer",
    )  # fmt: skip

    assert refused.code == 1
    assert "does not allow this (write notes)" in refused.err
    assert not ImpactedEntity.objects.exists()
