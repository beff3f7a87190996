"""One compiled entity: the scope, FROM clause, filter and rules of an entity compiled once, and
read — not parsed again — by the ETL plan and the KT documentation."""

from __future__ import annotations

import pytest
from sqlglot import exp

from catalog.dialects import as_written
from exports.etl import plan as etl_plan
from exports.spec import kt
from mappings import compiled as compiled_module
from mappings import expressions
from mappings.compiled import compile_engagement, compile_entity, compile_entity_mapping
from mappings.demo import apply_demo_mapping
from mappings.models import AttributeMapping
from mappings.selectors.mapping import catalog_index, contract_attributes
from mappings.services import mapping as services
from tests.exports.etl.conftest import complete_mapping

from .conftest import attribute


def _map(entity, name: str, transformation: str, acting_user) -> None:
    services.attribute_mapping_update(
        attribute_mapping=attribute(entity, name),
        data={"transformation": transformation},
        acting_user=acting_user,
    )


def test_the_customer_entity_compiles_into_one_object(customer, ba):
    # Given the customer entity (crm_customer c, LEFT JOIN its address a, a filter) and two rules
    _map(customer, "email", "LOWER(TRIM(c.email))", ba)
    _map(customer, "lifecycle_stage", "LOWER(c.status)", ba)

    # When it is compiled
    compiled = compile_entity_mapping(entity_mapping=customer)

    # Then its scope holds both aliases with their tables
    assert compiled.alias_tables == {"c": "crm_customer", "a": "crm_customer_address"}
    # and its FROM clause and filter render as one query
    query = compiled.select([exp.column("customer_id", table="c")])
    assert query.sql() == (
        "SELECT c.customer_id FROM crm_customer AS c "
        'LEFT JOIN crm_customer_address AS a ON a.customer_id = c.customer_id AND a."order" = 1 '
        "WHERE c.status <> 'TEST'"
    )
    assert compiled.from_clause.problems == [] and compiled.filter.ok
    # and each rule carries its lineage
    email = compiled.attribute("email")
    assert email.lineage == [("c", "crm_customer", "email")]
    assert email.tree.sql() == "LOWER(TRIM(c.email))"
    # and a problem comes with its message
    stage = compiled.attribute("lifecycle_stage")
    assert [p.message for p in stage.checked.problems] == [
        "The attribute is required but c.status can be NULL and there is no default."
    ]
    # and a contract attribute without a rule still knows what it expects
    unmapped = compiled.attribute("birth_date")
    assert (unmapped.checked, unmapped.target.logical_type) == (None, "date")


def test_a_rule_is_compiled_against_the_entity_without_saving(customer):
    # Given the customer entity compiled with its targets only
    compiled = compile_entity_mapping(entity_mapping=customer, attribute_mappings=())
    assert all(a.mapping is None for a in compiled.attributes)

    # When a rule with an unknown alias is checked for the email attribute
    checked, errors = compiled.compile_rule(
        attribute_name="email",
        source_columns="",
        transformation="LOWER(x.email)",
        default_value="",
    )

    # Then the problem points at it, with the aliases the entity knows
    assert checked.problems[0].message == "Unknown alias 'x' (known aliases: a, c)."
    assert errors == {
        "transformation": ["Unknown alias 'x' (known aliases: a, c). (line 1, column 7)"]
    }
    # and a direct move must be a single alias.column
    assert compiled.compile_rule(
        attribute_name="email",
        source_columns="c.email, c.phone",
        transformation="",
        default_value="",
    ) == (
        None,
        {
            "source_columns": [
                "A direct move names exactly one alias.column; write anything else as a "
                "transformation."
            ]
        },
    )


def test_the_filter_narrows_the_scope_its_rules_see(customer, ba):
    # Given a rule over a nullable column into a required attribute
    _map(customer, "lifecycle_stage", "LOWER(c.status)", ba)
    # When the filter keeps that column non-NULL
    filtered = services.entity_mapping_update(
        entity_mapping=customer, data={"filter": "c.status IS NOT NULL"}, acting_user=ba
    )
    compiled = compile_entity_mapping(entity_mapping=filtered)
    # Then the rule no longer warns (nor does the row the save rechecked), while the unfiltered
    # scope still sees a nullable column
    assert compiled.attribute("lifecycle_stage").checked.problems == []
    assert attribute(filtered, "lifecycle_stage").problems == []
    assert not compiled.filtered_scope.table("c").column("status").nullable
    assert compiled.scope.table("c").column("status").nullable


def test_compile_entity_is_pure_and_reports_a_broken_rule(customer):
    # Given the catalog and contract read once, and an unsaved row with a misspelt column
    catalog = catalog_index(engagement=customer.engagement)
    contract = contract_attributes(engagement=customer.engagement, entity_name="customer")
    row = AttributeMapping(
        entity_mapping=customer, attribute_name="email", transformation="LOWER(c.emial)"
    )

    # When the entity is compiled from them
    compiled = compile_entity(
        entity_mapping=customer,
        catalog=catalog,
        contract_attributes=contract,
        attribute_mappings=[row],
    )

    # Then the rule is not usable and says why
    email = compiled.attribute("email")
    assert (email.ok, email.tree, email.value()) == (False, None, None)
    assert [str(p) for p in email.checked.errors] == [
        "The table crm_customer has no column 'emial'. (line 1, column 7)"
    ]


@pytest.fixture
def mapped(published, cataloged, engagement, ba):
    """The demo mapping, completed as the ETL stories complete it."""
    apply_demo_mapping(engagement, ba)
    complete_mapping(engagement, ba)
    return engagement


def test_the_etl_plan_and_the_kt_doc_read_the_compiled_rules(mapped, monkeypatch):
    # Given the engagement compiled once
    compiled = compile_engagement(engagement=mapped)
    country = next(c for c in compiled if c.name == "customer_address").attribute("country_code")
    assert country.checked.text == (
        "CASE UPPER(ad.country_code) WHEN 'UK' THEN 'GB' ELSE UPPER(ad.country_code) END"
    )

    # When the ETL plan and the KT documentation are built from it, with parsing switched off
    def no_parsing(*args, **kwargs):
        raise AssertionError("a rule was parsed again")

    for module in (etl_plan, kt):
        monkeypatch.setattr(module, "compile_engagement", lambda *, engagement: compiled)
    monkeypatch.setattr(expressions, "parse", no_parsing)
    monkeypatch.setattr(compiled_module, "check_expression", no_parsing)
    plan = etl_plan.build_plan(engagement=mapped)
    entities = {e.name: e for e in kt.kt_entities(engagement=mapped)}

    # Then both show the rule the compiled entity holds
    column = plan.entity("customer_address").column("country_code")
    # (the plan's copy marks SQLite's case functions, so every target keeps their meaning)
    assert column.rule == as_written(country.tree, "sqlite")
    documented = next(
        a for a in entities["customer_address"].attributes if a.name == "country_code"
    )
    assert (
        documented.logic
        == country.value().sql(dialect="postgres")
        == (
            "COALESCE(CASE UPPER(ad.country_code) WHEN 'UK' THEN 'GB' ELSE UPPER(ad.country_code) "
            "END, 'GB')"
        )
    )
    assert documented.sources == ["crm_customer_address.country_code"]
