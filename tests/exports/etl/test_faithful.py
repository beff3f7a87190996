"""Faithful generation: a rule means in the generated SQL exactly what the BA wrote in the Mart's
dialect, and a target dialect that cannot express a rule refuses it by name instead of emitting
something else."""

from __future__ import annotations

from io import StringIO

import pytest
import sqlalchemy as sa
from django.core.management import CommandError, call_command

from catalog.services import sources as catalog_services
from exports.etl import sql
from exports.etl.plan import build_plan
from exports.services.etl import etl_generate
from mappings.models import EntityMapping
from mappings.services import mapping as services

from .pgmart import PG_URL, copy_mart, drop_schema, unique_schema

FULL_NAME = "CONCAT_WS(' ', TRIM(c.first_name), c.phone)"
# The 700 most recently updated customers, as PostgreSQL orders them: never updated (NULL) first.
RECENT = (
    "LEFT JOIN crm_subscription s ON s.customer_id = c.customer_id AND s.channel_code = 'EML' "
    "JOIN (SELECT customer_id, ROW_NUMBER() OVER (ORDER BY updated_at DESC, customer_id) AS recency "
    "FROM crm_customer) r ON r.customer_id = c.customer_id"
)
# SQL Server's PARSENAME splits on '.' only: it cannot take the domain after '@'.
EMAIL_DOMAIN = "SPLIT_PART(c.email, '@', 2)"


def _customer(engagement) -> EntityMapping:
    return EntityMapping.objects.get(engagement=engagement, entity_name="customer")


def _rule(engagement, user, attribute: str, rule: str) -> None:
    services.attribute_mapping_update(
        attribute_mapping=_customer(engagement).attributes.get(attribute_name=attribute),
        data={"transformation": rule},
        acting_user=user,
    )


@pytest.fixture
def postgres_rules(mapped, cataloged, ba):
    """The demo mapping on a Mart whose rules are PostgreSQL."""
    catalog_services.source_system_update(
        source=cataloged, data={"dialect": "postgres"}, acting_user=ba
    )
    return mapped


def test_a_postgres_rule_generated_for_postgres_is_the_rule_as_written(postgres_rules, ba):
    # Given PostgreSQL rules with CONCAT_WS (skips NULLs) and a lookup ordered DESC (NULLs first)
    _rule(postgres_rules, ba, "first_name", FULL_NAME)
    services.entity_mapping_update(
        entity_mapping=_customer(postgres_rules),
        data={"joins": RECENT, "filter": "r.recency <= 700"},
        acting_user=ba,
    )
    # When the customer load is generated for PostgreSQL
    customer = build_plan(engagement=postgres_rules).entity("customer")
    assert not customer.skipped
    rendered = sql.render(sql.insert_tree(customer), "postgres")
    # Then neither is rewritten: no NULL guard around CONCAT_WS, no NULLS LAST on the ordering
    assert "CAST(CONCAT_WS(' ', TRIM(c.first_name), c.phone) AS VARCHAR(100)) AS first_name" in (
        rendered
    )
    assert "ORDER BY updated_at DESC, customer_id) AS recency" in rendered
    assert "CASE WHEN" not in rendered.split("AS first_name")[0].splitlines()[-1]
    assert "NULLS" not in rendered


@pytest.fixture
def postgres_mart(require_postgres, demo_mart_file):
    admin = sa.create_engine(PG_URL)
    schema = unique_schema("etl_faithful")
    try:
        copy_mart(demo_mart_file, admin, schema)
        yield admin, schema
    finally:
        drop_schema(admin, schema)
        admin.dispose()


def test_on_postgresql_the_generated_extraction_loads_what_the_rule_as_written_computes(
    postgres_rules, ba, postgres_mart
):
    # Given the same PostgreSQL rules, and the Mart on a real PostgreSQL
    admin, schema = postgres_mart
    _rule(postgres_rules, ba, "first_name", FULL_NAME)
    services.entity_mapping_update(
        entity_mapping=_customer(postgres_rules),
        data={"joins": RECENT, "filter": "r.recency <= 700"},
        acting_user=ba,
    )
    customer = build_plan(engagement=postgres_rules).entity("customer")
    extraction = sql.render(sql.select_tree(customer, source_schema=schema), "postgres")
    # When the generated extraction runs, and the BA's rule and filter run as written
    as_written = (
        f"SELECT c.customer_id, {FULL_NAME} FROM {schema}.crm_customer c "
        "JOIN (SELECT customer_id, ROW_NUMBER() OVER (ORDER BY updated_at DESC, customer_id) "
        f"AS recency FROM {schema}.crm_customer) r ON r.customer_id = c.customer_id "
        "WHERE r.recency <= 700"
    )
    with admin.connect() as conn:
        generated = {
            row.customer_id: row.first_name
            for row in conn.execute(sa.text(f"SELECT * FROM ({extraction}) AS g"))
        }
        expected = dict(conn.execute(sa.text(as_written)).all())
        never_updated = conn.execute(
            sa.text(f"SELECT count(*) FROM {schema}.crm_customer WHERE updated_at IS NULL")
        ).scalar()
    # Then they are the same customers with the same names; the never-updated customers are in
    # (NULLs first) and a customer without a phone keeps a name (CONCAT_WS skips the NULL)
    assert never_updated and len(expected) == 700
    assert {int(k): v for k, v in generated.items()} == {int(k): v for k, v in expected.items()}
    assert any(name for name in generated.values()) and None not in generated.values()


def test_a_rule_the_target_dialect_cannot_express_is_refused_by_name(postgres_rules, ba, tmp_path):
    # Given a PostgreSQL rule taking the e-mail domain with SPLIT_PART on '@'
    _rule(postgres_rules, ba, "first_name", EMAIL_DOMAIN)
    plan = build_plan(engagement=postgres_rules)
    # Then the plan records which dialect cannot express it, per rule
    column = plan.entity("customer").column("first_name")
    assert set(column.inexpressible) == {"tsql"}
    # When it is generated for SQL Server: the customer is not generated, and named
    manifest = etl_generate(
        engagement=postgres_rules, dialect="tsql", out=tmp_path / "tsql", acting_user=ba
    )
    assert manifest["skipped"]["customer"].startswith(
        "The rule of customer.first_name cannot be expressed in tsql: SPLIT_PART"
    )
    assert "customer" not in manifest["load_order"]
    # And for PostgreSQL it is generated as written
    manifest = etl_generate(
        engagement=postgres_rules, dialect="postgres", out=tmp_path / "pg", acting_user=ba
    )
    assert manifest["skipped"] == {}
    assert (
        "SPLIT_PART(c.email, '@', 2)" in (tmp_path / "pg" / "sql" / "01_customer.sql").read_text()
    )


def test_generate_etl_exits_1_naming_the_rule_and_the_dialect(postgres_rules, ba, etl, tmp_path):
    _rule(postgres_rules, ba, "first_name", EMAIL_DOMAIN)
    err = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "generate_etl", "--engagement", "acme-360", "--as", "etl", "--dialect", "tsql",
            "-o", str(tmp_path), stdout=StringIO(), stderr=err,
        )  # fmt: skip
    assert str(refused.value).startswith("Incomplete (tsql): not generated: customer")
    assert (
        "not generated: customer: The rule of customer.first_name cannot be expressed in tsql"
        in (err.getvalue())
    )
    # the same mapping for PostgreSQL exits 0
    call_command(
        "generate_etl", "--engagement", "acme-360", "--as", "etl", "--dialect", "postgres",
        "-o", str(tmp_path / "pg"), stdout=StringIO(),
    )  # fmt: skip


def test_a_filter_the_target_dialect_cannot_express_refuses_its_entity(
    postgres_rules, ba, tmp_path
):
    # Given the customers filtered on their e-mail domain with SPLIT_PART on '@'
    services.entity_mapping_update(
        entity_mapping=_customer(postgres_rules),
        data={"filter": f"{EMAIL_DOMAIN} <> 'example.org'"},
        acting_user=ba,
    )
    # When it is generated for SQL Server, the customer is refused, naming its filter and tsql
    manifest = etl_generate(
        engagement=postgres_rules, dialect="tsql", out=tmp_path / "tsql", acting_user=ba
    )
    assert manifest["skipped"]["customer"].startswith(
        "The FROM clause or filter of customer cannot be expressed in tsql: SPLIT_PART"
    )
    # And PostgreSQL generates it
    manifest = etl_generate(
        engagement=postgres_rules, dialect="postgres", out=tmp_path / "pg", acting_user=ba
    )
    assert "customer" in manifest["load_order"]
