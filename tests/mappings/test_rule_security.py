"""A rule runs on the client's Mart: nothing a BA types may read a file, sleep, reach another
server or read the server's settings — not in a transformation, a filter, a join condition, nor in
a join's lookup SELECT at any depth. Each refusal names the field, the line and column, and what
is allowed instead; a default is never SQL at all."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from mappings.compiled import compile_entity_mapping
from mappings.models import EntityMapping
from mappings.services import mapping as services

from .mart_fixtures import entity, mart, rule

# What an attacker would reach for, by the engine it works on; every one is refused on every Mart.
REFUSED = {
    "postgres": [
        "pg_read_file('/etc/passwd')",
        "pg_read_binary_file('/etc/passwd')",
        "pg_ls_dir('/')",
        "pg_sleep(10)",
        "dblink('host=evil', 'SELECT 1')",
        "lo_import('/etc/passwd')",
        "lo_export(1, '/tmp/x')",
        "current_setting('data_directory')",
        "set_config('work_mem', '1GB', false)",
        "version()",
    ],
    "mysql": ["LOAD_FILE('/etc/passwd')", "SLEEP(10)", "BENCHMARK(1000000, 1)"],
    "sqlite": ["load_extension('/tmp/evil.so')", "readfile('/etc/passwd')", "writefile('/x', 'y')"],
    "duckdb": ["read_csv('/etc/passwd')", "read_parquet('/x.parquet')", "read_json('/x.json')"],
}
CALLS = [call for calls in REFUSED.values() for call in calls]
DIALECTS = list(REFUSED)


def _name(call: str) -> str:
    return call.split("(", 1)[0].upper()


def _refused(field: str, call: str, refused: pytest.ExceptionInfo[ValidationError]) -> str:
    """The one message of `field`, checked to name the function, a position and the way out."""
    [message] = refused.value.message_dict[field]
    assert f"The function {_name(call)} " in message
    assert "is never allowed in a rule; use " in message
    assert "(line " in message and ", column " in message
    return message


@pytest.mark.parametrize("dialect", DIALECTS)
def test_refused_in_a_transformation(engagement, ba, dialect):
    mart(engagement, dialect)
    name = rule(entity(engagement, ba), "name")
    for call in CALLS:
        with pytest.raises(ValidationError) as refused:
            services.attribute_mapping_update(
                attribute_mapping=name,
                data={"transformation": f"COALESCE(c.full_name, {call})"},
                acting_user=ba,
            )
        message = _refused("transformation", call, refused)
        assert message.endswith("(line 1, column 23)"), message
    name.refresh_from_db()
    assert (name.transformation, name.row_version) == ("", 1)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_refused_in_a_filter(engagement, ba, dialect):
    mart(engagement, dialect)
    customer = entity(engagement, ba)
    for call in CALLS:
        with pytest.raises(ValidationError) as refused:
            services.entity_mapping_update(
                entity_mapping=customer,
                data={"filter": f"c.customer_id > 0\n  AND {call} IS NOT NULL"},
                acting_user=ba,
            )
        message = _refused("filter", call, refused)
        assert message.endswith("(line 2, column 7)"), message
    customer.refresh_from_db()
    assert customer.filter == ""


@pytest.mark.parametrize("dialect", DIALECTS)
def test_refused_in_a_lookup_select(engagement, ba, dialect):
    """The issue's story: `LEFT JOIN (SELECT k, pg_read_file(…) AS z FROM t) u` used to save."""
    mart(engagement, dialect)
    customer = entity(engagement, ba)
    for call in CALLS:
        with pytest.raises(ValidationError) as refused:
            services.entity_mapping_update(
                entity_mapping=customer,
                data={
                    "joins": "LEFT JOIN crm_record r ON r.customer_id = c.customer_id\n"
                    f"LEFT JOIN (SELECT customer_id, {call} AS z FROM crm_record) u\n"
                    "  ON u.customer_id = c.customer_id"
                },
                acting_user=ba,
            )
        message = _refused("joins", call, refused)
        assert message.endswith("(line 2, column 32)"), message
    customer.refresh_from_db()
    assert customer.joins == ""


def _deep_lookups(call: str) -> list[str]:
    """The call in a CTE inside a derived table of the lookup; in a subquery of a scalar
    subquery of its WHERE; in the second part of a UNION."""
    return [
        "LEFT JOIN (SELECT x.customer_id FROM (\n"
        "    WITH deep AS (SELECT customer_id, segment FROM crm_record WHERE "
        f"{call} IS NULL)\n"
        "    SELECT customer_id FROM deep) x) u ON u.customer_id = c.customer_id",
        "LEFT JOIN (SELECT customer_id FROM crm_record r\n"
        "  WHERE r.segment = (SELECT MAX(s.segment) FROM crm_record s\n"
        f"                     WHERE s.segment IN (SELECT {call} FROM crm_record))) u\n"
        "  ON u.customer_id = c.customer_id",
        "LEFT JOIN (SELECT customer_id FROM crm_record UNION ALL\n"
        f"  SELECT customer_id FROM (SELECT customer_id, {call} AS z FROM crm_record) y) u\n"
        "  ON u.customer_id = c.customer_id",
    ]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_refused_two_levels_deep_in_a_lookup(engagement, ba, dialect):
    mart(engagement, dialect)
    customer = entity(engagement, ba)
    for call in CALLS:
        for joins in _deep_lookups(call):
            with pytest.raises(ValidationError) as refused:
                services.entity_mapping_update(
                    entity_mapping=customer, data={"joins": joins}, acting_user=ba
                )
            message = _refused("joins", call, refused)
            assert "(line 2, column " in message or "(line 3, column " in message, message
    customer.refresh_from_db()
    assert customer.joins == ""


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("call", ["pg_sleep(10)", "load_extension('/tmp/evil.so')"])
def test_refused_in_a_join_condition(engagement, ba, dialect, call):
    mart(engagement, dialect)
    customer = entity(engagement, ba)
    with pytest.raises(ValidationError) as refused:
        services.entity_mapping_update(
            entity_mapping=customer,
            data={"joins": f"LEFT JOIN crm_record r ON r.customer_id = c.customer_id AND {call}"},
            acting_user=ba,
        )
    _refused("joins", call, refused)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("table", "shown"),
    [
        ("pg_catalog.pg_authid", "pg_catalog.pg_authid"),
        ("information_schema.tables", "information_schema.tables"),
        ("sqlite_master", "sqlite_master"),
        ("mysql.user", "mysql.user"),
    ],
)
def test_system_catalogs_are_refused_as_lookup_tables(engagement, ba, dialect, table, shown):
    mart(engagement, dialect)
    customer = entity(engagement, ba)
    with pytest.raises(ValidationError) as refused:
        services.entity_mapping_update(
            entity_mapping=customer,
            data={
                "joins": f"LEFT JOIN (SELECT r.customer_id FROM crm_record r JOIN {table} s "
                "ON 1 = 1) u ON u.customer_id = c.customer_id"
            },
            acting_user=ba,
        )
    [message] = refused.value.message_dict["joins"]
    assert message.startswith(f"The system catalog '{shown}' is not allowed in a rule;")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "call",
    [
        "pg_read_file('/etc/passwd')",
        "readfile('/etc/passwd')",
        "pg_sleep(10)",
        "dblink('host=evil', 'SELECT 1')",
        "load_extension('/tmp/x.so')",
    ],
)
def test_a_default_calling_a_refused_function_is_refused(engagement, ba, dialect, call):
    """A default never runs (it is loaded as quoted text), but a refused call typed there is a
    mistake or an attack: refused by name, and nothing is saved."""
    mart(engagement, dialect)
    name = rule(entity(engagement, ba), "name")

    with pytest.raises(ValidationError) as refused:
        services.attribute_mapping_update(
            attribute_mapping=name,
            data={"source_columns": "c.full_name", "default_value": call},
            acting_user=ba,
        )

    [message] = refused.value.message_dict["default_value"]
    assert message.startswith(f"The default calls {call.split('(')[0].upper()}, which ")
    assert message.endswith("a default is a literal value, written as the value itself.")
    name.refresh_from_db()
    assert name.default_value == ""


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_default_that_reads_like_a_call_is_a_literal_never_sql(engagement, ba, dialect):
    """Any other default is loaded as its text, quoted: nothing runs."""
    mart(engagement, dialect)
    text = "Unknown (see the Mart's notes); 'quoted'"
    name = services.attribute_mapping_update(
        attribute_mapping=rule(entity(engagement, ba), "name"),
        data={"source_columns": "c.full_name", "default_value": text},
        acting_user=ba,
    )
    compiled = compile_entity_mapping(entity_mapping=name.entity_mapping)
    value = compiled.attribute("name").value()
    quoted = text.replace("'", "''")
    assert value.sql(dialect=dialect) == f"COALESCE(c.full_name, '{quoted}')"


def test_a_refused_function_through_the_api_is_a_400_not_a_500(engagement, ba):
    mart(engagement, "postgres")
    customer = entity(engagement, ba)
    client = APIClient()
    client.force_authenticate(ba)
    response = client.patch(
        f"/api/v1/engagements/{engagement.slug}/entity-mappings/{customer.pk}/",
        {
            "row_version": customer.row_version,
            "joins": "LEFT JOIN (SELECT customer_id, pg_read_file('/etc/passwd') AS z "
            "FROM crm_record) u ON u.customer_id = c.customer_id",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "joins": [
            "The function PG_READ_FILE reads or writes files on the database server and is never "
            "allowed in a rule; use TO_DATE, TO_CHAR, DATE_PART, SPLIT_PART, REGEXP_REPLACE, "
            "COALESCE, CASE. (line 1, column 32)"
        ]
    }
    assert EntityMapping.objects.get(pk=customer.pk).joins == ""


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_copy_statement_is_refused_as_a_transformation(engagement, ba, dialect):
    mart(engagement, dialect)
    name = rule(entity(engagement, ba), "name")
    with pytest.raises(ValidationError) as refused:
        services.attribute_mapping_update(
            attribute_mapping=name,
            data={"transformation": "COPY crm_record TO '/tmp/leak.csv'"},
            acting_user=ba,
        )
    [message] = refused.value.message_dict["transformation"]
    assert message.startswith("Only an expression is allowed here, not a COPY statement.")


@pytest.mark.parametrize(
    ("dialect", "joins", "name"),
    [
        ("duckdb", "LEFT JOIN read_csv('/etc/passwd') u ON u.k = c.customer_id", "READ_CSV"),
        (
            "duckdb",
            "LEFT JOIN (SELECT column0 AS k FROM read_parquet('/x.parquet')) u "
            "ON u.k = c.customer_id",
            "READ_PARQUET",
        ),
        (
            "postgres",
            "LEFT JOIN (SELECT f AS k FROM pg_ls_dir('/') f) u ON u.k = c.customer_id",
            "PG_LS_DIR",
        ),
    ],
)
def test_a_table_function_is_refused_as_a_join_or_lookup_table(
    engagement, ba, dialect, joins, name
):
    mart(engagement, dialect)
    customer = entity(engagement, ba)
    with pytest.raises(ValidationError) as refused:
        services.entity_mapping_update(
            entity_mapping=customer, data={"joins": joins}, acting_user=ba
        )
    [message] = refused.value.message_dict["joins"]
    assert message.startswith(f"The function {name} reads or writes files on the database server")


def test_a_cast_to_a_postgres_catalog_type_is_refused(engagement, ba):
    mart(engagement, "postgres")
    with pytest.raises(ValidationError) as refused:
        services.attribute_mapping_update(
            attribute_mapping=rule(entity(engagement, ba), "name"),
            data={"transformation": "'pg_authid'::regclass::text"},
            acting_user=ba,
        )
    [message] = refused.value.message_dict["transformation"]
    assert message.startswith("A cast to REGCLASS reads the database's system catalog")
