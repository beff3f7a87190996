"""A PostgreSQL Mart in two schemas, `crm` and `mkt`, each with a `customer` table and a foreign key
from one into the other: one source system covers both, schema by schema, and re-reading one never
drops the other's tables."""

from __future__ import annotations

import io
import os

import pytest
import sqlalchemy as sa
from django.core.exceptions import ValidationError
from django.core.management import call_command

from catalog.models import CatalogForeignKey, CatalogTable, SourceSystem
from catalog.selectors import catalog_search, erd_graph
from catalog.services import sources as services
from mappings.expressions import check_from
from mappings.selectors.mapping import catalog_index
from tests.conftest import POSTGRES_ADDRESS, _reachable, missing_service

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
DATABASE = f"wb_test_schemas_{os.getpid()}"
MART_URL = f"{SERVER}/{DATABASE}"

MART_DDL = """
CREATE SCHEMA crm;
CREATE SCHEMA mkt;
CREATE TABLE crm.customer (customer_id integer PRIMARY KEY, full_name text);
CREATE TABLE crm.address (
    address_id integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES crm.customer (customer_id),
    city text
);
CREATE TABLE crm.legacy_note (note_id integer PRIMARY KEY, body text);
CREATE TABLE mkt.customer (
    mkt_customer_id integer PRIMARY KEY,
    crm_customer_id integer REFERENCES crm.customer (customer_id),
    segment text
);
CREATE TABLE mkt.campaign (campaign_id integer PRIMARY KEY, code varchar(20));
"""


@pytest.fixture
def two_schema_mart():
    if not _reachable(POSTGRES_ADDRESS):
        missing_service("PostgreSQL is not reachable on 127.0.0.1:5432")
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
    mart = sa.create_engine(MART_URL)
    with mart.begin() as conn:
        conn.exec_driver_sql(MART_DDL)
    yield mart
    mart.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin.dispose()


def introspect(engagement, *schemas: str) -> str:
    out = io.StringIO()
    args = ["--engagement", engagement.slug, "--as", "ba", "--url", MART_URL]
    for schema in schemas:
        args += ["--schema", schema]
    call_command("introspect_mart", *args, stdout=out)
    return out.getvalue()


def cataloged() -> list[str]:
    return sorted(t.qualified_name for t in CatalogTable.objects.all())


def test_the_ba_catalogs_crm_then_mkt_and_re_reading_crm_drops_only_what_crm_dropped(
    two_schema_mart, engagement, ba
):
    first = introspect(engagement, "crm")
    assert first == "cataloged 3 tables, 7 columns, 1 foreign keys\n"

    second = introspect(engagement, "mkt")

    assert second.startswith("cataloged 2 tables, 5 columns, 1 foreign keys\n")
    assert "dropped" not in second
    assert cataloged() == [
        "crm.address",
        "crm.customer",
        "crm.legacy_note",
        "mkt.campaign",
        "mkt.customer",
    ]
    source = SourceSystem.objects.get()
    assert source.schemas == ["crm", "mkt"]
    crm_customer = CatalogTable.objects.get(schema="crm", name="customer")
    mkt_customer = CatalogTable.objects.get(schema="mkt", name="customer")
    across = CatalogForeignKey.objects.get(table=mkt_customer)
    assert (across.referred_schema, across.referred_table_name) == ("crm", "customer")
    assert across.referred_table == crm_customer  # the FK across schemas is linked
    services.table_understanding_update(
        table=mkt_customer, data={"grain": "one row per marketing contact"}, acting_user=ba
    )

    with two_schema_mart.begin() as conn:
        conn.exec_driver_sql("DROP TABLE crm.legacy_note")
    again = introspect(engagement, "crm")

    assert again == (
        "cataloged 2 tables, 5 columns, 1 foreign keys\n"
        "changes since the last refresh: 1 tables dropped\n"
    )
    assert cataloged() == ["crm.address", "crm.customer", "mkt.campaign", "mkt.customer"]
    across.refresh_from_db()
    assert across.referred_table == crm_customer  # kept, still linked
    mkt_customer.refresh_from_db()
    assert mkt_customer.grain == "one row per marketing contact"
    assert across.history.count() == 1  # never rewritten

    # without --schema: every schema the source covers, and nothing changed
    everything = introspect(engagement)
    assert everything == "cataloged 4 tables, 10 columns, 2 foreign keys\n"
    assert SourceSystem.objects.get().schemas == ["crm", "mkt"]


def test_a_crm_table_dropped_and_recreated_relinks_the_mkt_foreign_key(
    two_schema_mart, engagement, ba
):
    introspect(engagement, "crm", "mkt")
    across = CatalogForeignKey.objects.get(table__schema="mkt")
    assert across.referred_table is not None

    with two_schema_mart.begin() as conn:
        conn.exec_driver_sql(
            "ALTER TABLE mkt.customer DROP CONSTRAINT customer_crm_customer_id_fkey"
        )
        conn.exec_driver_sql("DROP TABLE crm.address; DROP TABLE crm.customer")
    introspect(engagement, "crm")
    across.refresh_from_db()
    assert across.referred_table is None  # the Mart still had it when mkt was read: kept, unlinked
    assert across.history.first().history_user == ba  # the unlink is in the history

    with two_schema_mart.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE crm.customer (customer_id integer PRIMARY KEY)")
    introspect(engagement, "crm")
    across.refresh_from_db()
    assert across.referred_table == CatalogTable.objects.get(schema="crm", name="customer")


def test_tables_of_the_same_name_are_told_apart_by_their_schema(two_schema_mart, engagement, ba):
    introspect(engagement, "crm", "mkt")

    labels = sorted(node["data"]["label"] for node in erd_graph(engagement=engagement)["nodes"])
    assert labels.count("crm.customer") == labels.count("mkt.customer") == 1
    _filter, rows, _cut = catalog_search(engagement=engagement, params={"table": "mkt.customer"})
    assert [c.name for c in rows] == ["mkt_customer_id", "crm_customer_id", "segment"]
    _filter, rows, _cut = catalog_search(engagement=engagement, params={"table": "customer"})
    assert {c.table.qualified_name for c in rows} == {"crm.customer", "mkt.customer"}
    index = catalog_index(engagement=engagement)
    joined = check_from(
        "crm.customer", "c", "LEFT JOIN mkt.customer m ON m.crm_customer_id = c.customer_id", index
    )
    assert joined.problems == []
    assert joined.driving.sql() == "crm.customer AS c"
    assert joined.scope.table("m").name == "mkt.customer"

    ambiguous = check_from("customer", "c", "", index)
    assert [p.message for p in ambiguous.problems] == [
        "The driving table 'customer' is in several schemas (crm.customer, mkt.customer): "
        "name it with its schema."
    ]
    in_a_join = check_from(
        "crm.address", "a", "JOIN customer c ON c.customer_id = a.customer_id", index
    )
    assert [p.message for p in in_a_join.problems] == [
        "The table 'customer' is in several schemas (crm.customer, mkt.customer): "
        "name it with its schema."
    ]


def test_a_missing_schema_is_refused_and_nothing_is_dropped(two_schema_mart, engagement, ba):
    introspect(engagement, "crm")

    with pytest.raises(Exception) as refused:
        introspect(engagement, "crm", "nope")

    assert "The schema 'nope' does not exist in the Mart" in str(refused.value)
    assert len(cataloged()) == 3
    assert SourceSystem.objects.get().schemas == ["crm"]


def test_the_ba_maps_an_entity_from_both_schemas_naming_tables_schema_dot_table(
    two_schema_mart, engagement, ba
):
    from contracts import services as contract_services
    from contracts.demo import DEMO_CONTRACT
    from exports.selectors.spec import spec_data, used_catalog_columns
    from mappings.compiled import compile_entity_mapping
    from mappings.models import EntityMapping
    from mappings.services import mapping as mapping_services

    layer = contract_services.contract_import(
        engagement=engagement,
        file_name=DEMO_CONTRACT.name,
        content=DEMO_CONTRACT.read_bytes(),
        acting_user=ba,
    )
    contract_services.contract_publish(layer=layer, acting_user=ba)
    introspect(engagement, "crm", "mkt")
    mapping_services.mapping_prepare(engagement=engagement, acting_user=ba)
    entity = EntityMapping.objects.get(engagement=engagement, entity_name="customer")

    # a plain `customer` is refused: both schemas have one
    with pytest.raises(ValidationError) as refused:
        mapping_services.entity_mapping_update(
            entity_mapping=entity,
            data={"driving_table": "customer", "driving_alias": "c"},
            acting_user=ba,
        )
    assert refused.value.message_dict == {
        "driving_table": [
            "The driving table 'customer' is in several schemas (crm.customer, mkt.customer): "
            "name it with its schema."
        ]
    }

    # the workbook's Source Catalog sheet lists crm.customer, not its namesake in mkt
    entity = mapping_services.entity_mapping_update(
        entity_mapping=entity,
        data={"driving_table": "crm.customer", "driving_alias": "c"},
        acting_user=ba,
    )
    sheet = used_catalog_columns(data=spec_data(engagement=engagement))
    assert {row["table"] for row in sheet} == {"crm.customer"}

    entity = mapping_services.entity_mapping_update(
        entity_mapping=entity,
        data={
            "driving_table": "crm.customer",
            "driving_alias": "c",
            "joins": "LEFT JOIN mkt.customer m ON m.crm_customer_id = c.customer_id",
        },
        acting_user=ba,
    )
    assert entity.problems == []
    lifecycle = entity.attributes.get(attribute_name="lifecycle_stage")
    lifecycle = mapping_services.attribute_mapping_update(
        attribute_mapping=lifecycle, data={"transformation": "LOWER(m.segment)"}, acting_user=ba
    )
    assert lifecycle.lineage_tables == ["mkt.customer"]
    compiled = compile_entity_mapping(entity_mapping=entity)
    query = compiled.select([compiled.attribute("lifecycle_stage").value()]).sql(dialect="postgres")
    assert "FROM crm.customer AS c LEFT JOIN mkt.customer AS m" in query
    sheet = used_catalog_columns(data=spec_data(engagement=engagement))
    assert {row["table"] for row in sheet} == {"crm.customer", "mkt.customer"}
    segment = next(r for r in sheet if (r["table"], r["column"]) == ("mkt.customer", "segment"))
    assert segment["used_by"] == "customer.lifecycle_stage"

    # the segment moves from mkt.customer to crm.customer: the rule's column is gone from its table
    with two_schema_mart.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE crm.customer ADD COLUMN segment text")
        conn.exec_driver_sql("ALTER TABLE mkt.customer DROP COLUMN segment")
    introspect(engagement, "crm", "mkt")
    from mappings.selectors.gap import gap_items

    assert "mkt.customer: segment no longer in the Mart." in [
        item.issue for item in gap_items(engagement=engagement)
    ]


def test_a_foreign_key_into_the_default_schema_names_that_schema(two_schema_mart, engagement, ba):
    with two_schema_mart.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE public.country (code varchar(2) PRIMARY KEY)")
        conn.exec_driver_sql(
            "ALTER TABLE crm.address ADD COLUMN country_code varchar(2) "
            "REFERENCES public.country (code)"
        )

    introspect(engagement, "crm")
    fks = {fk.columns[0]: fk for fk in CatalogForeignKey.objects.filter(table__name="address")}
    to_country, to_customer = fks["country_code"], fks["customer_id"]
    assert (to_country.referred_schema, to_country.referred_table) == ("public", None)
    assert (to_customer.referred_schema, to_customer.referred_table.qualified_name) == (
        "crm",
        "crm.customer",
    )

    introspect(engagement, "public")
    to_country.refresh_from_db()
    assert to_country.referred_table == CatalogTable.objects.get(schema="public", name="country")
    assert SourceSystem.objects.get().schemas == ["crm", "public"]
