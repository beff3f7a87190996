"""Rules are written in the Mart's own SQL dialect (DESIGN.md, decision 2): the source system knows
its dialect, every rule, join and filter is parsed and checked in it, and column names resolve
with the dialect's identifier rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.dialects import dialect_for_backend
from catalog.services import sources as catalog_services
from catalog.services.ddl_import import catalog_import_ddl
from mappings.compiled import compile_entity_mapping
from mappings.expressions import ColumnInfo, Scope, TableInfo, check_expression
from mappings.services import mapping as services
from mappings.suggestions import ColumnFacts

from ..factories import CatalogColumnFactory, CatalogTableFactory
from .mart_fixtures import entity, mart, rule

BASE = "/api/v1/engagements/acme-360"


# --- each source system knows its dialect -------------------------------------------------------


def test_a_registered_mart_takes_its_rules_dialect_from_its_database(engagement, ba):
    source = catalog_services.source_system_create(
        engagement=engagement,
        name="Mart",
        url="postgresql+psycopg://reader@db.acme.example:5432/mart",
        acting_user=ba,
    )
    assert source.dialect == "postgres"


@pytest.mark.parametrize(
    ("backend", "dialect"),
    [
        ("postgresql", "postgres"),
        ("mariadb", "mysql"),
        ("mysql", "mysql"),
        ("sqlite", "sqlite"),
        ("duckdb", "duckdb"),
        ("mssql", "tsql"),
        ("oracle", "oracle"),
        ("snowflake", "snowflake"),
        ("informix", ""),
    ],
)
def test_other_backends_map_to_sqlglots_dialect_or_generic_sql(backend, dialect):
    assert dialect_for_backend(backend) == dialect


def test_the_ba_overrides_the_dialect_and_an_unknown_one_is_refused(engagement, ba):
    source = catalog_services.source_system_create(
        engagement=engagement,
        name="Mart",
        url="postgresql+psycopg://reader@db.acme.example:5432/mart",
        acting_user=ba,
    )
    assert source.dialect == "postgres"
    catalog_services.source_system_update(source=source, data={"dialect": "duckdb"}, acting_user=ba)
    source.refresh_from_db()
    assert source.dialect == "duckdb"
    assert source.history.first().history_user == ba

    # re-introspecting passes the URL again: the override stays
    catalog_services.source_system_update(
        source=source,
        data={"url": "postgresql+psycopg://reader@db.acme.example:5432/mart"},
        acting_user=ba,
    )
    source.refresh_from_db()
    assert source.dialect == "duckdb"

    with pytest.raises(ValidationError) as refused:
        catalog_services.source_system_update(
            source=source, data={"dialect": "klingon"}, acting_user=ba
        )
    assert refused.value.message_dict["dialect"][0].startswith("Unknown SQL dialect 'klingon'")
    source.refresh_from_db()
    assert source.dialect == "duckdb"


def test_the_dialect_is_set_through_the_api_and_only_by_catalog_managers(engagement, ba, viewer):
    source = catalog_services.source_system_create(
        engagement=engagement,
        name="Mart",
        url="postgresql+psycopg://reader@db.acme.example:5432/mart",
        acting_user=ba,
    )
    client = APIClient()
    client.force_authenticate(viewer)
    url = f"{BASE}/sources/{source.pk}/"
    assert client.patch(url, {"dialect": "postgres"}, format="json").status_code == 403

    client.force_authenticate(ba)
    bad = client.patch(url, {"dialect": "klingon"}, format="json")
    assert bad.status_code == 400
    assert "Unknown SQL dialect 'klingon'" in bad.json()["dialect"][0]
    good = client.patch(url, {"dialect": "redshift"}, format="json")
    assert good.status_code == 200
    assert good.json()["dialect"] == "redshift"


def test_a_ddl_catalog_keeps_the_dialect_chosen_at_import(engagement, ba):
    catalog_import_ddl(
        engagement=engagement,
        source_name="Mart from DDL",
        text='CREATE TABLE customer (customer_id INT, "CustomerKey" INT);',
        dialect="postgres",
        acting_user=ba,
    )
    source = engagement.sources.get(name="Mart from DDL")
    assert source.dialect == "postgres"


def test_the_compiled_entity_carries_its_driving_tables_dialect(engagement, ba):
    mart(engagement, "postgres")
    compiled = compile_entity_mapping(entity_mapping=entity(engagement, ba))
    assert (compiled.dialect, compiled.dialect_label) == ("postgres", "PostgreSQL SQL")


def test_the_entity_page_names_the_rules_dialect(engagement, ba, client):
    mart(engagement, "postgres")
    customer = entity(engagement, ba)
    client.force_login(ba)
    page = client.get(reverse("mapping-entity", args=[engagement.slug, customer.pk]))
    assert page.status_code == 200
    assert "PostgreSQL SQL" in page.content.decode()


# --- rules parsed and checked in the Mart's dialect ---------------------------------------------


@pytest.mark.parametrize(
    "transformation",
    [
        "EXTRACT(YEAR FROM TO_DATE(c.birth_date, 'DD/MM/YYYY'))",
        "DATE_PART('year', TO_DATE(c.birth_date, 'DD/MM/YYYY'))",
        "CAST(SPLIT_PART(c.birth_date, '/', 3) AS INTEGER)",
    ],
)
def test_postgres_date_functions_are_accepted_on_a_postgres_mart(engagement, ba, transformation):
    mart(engagement, "postgres")
    birth_year = rule(entity(engagement, ba), "birth_year")
    saved = services.attribute_mapping_update(
        attribute_mapping=birth_year, data={"transformation": transformation}, acting_user=ba
    )
    assert saved.transformation == transformation  # the BA's text, as written
    assert saved.lineage == ["c.birth_date"]


@pytest.mark.parametrize(
    ("transformation", "message"),
    [
        (
            "TO_DATE(c.birth_date, 'DD/MM/YYYY')",
            "The function TO_DATE is not allowed in SQLite rules; use strftime, date, substr, "
            "instr, ifnull, replace, CASE. (line 1, column 1)",
        ),
        (
            "DATE_PART('year', c.birth_date)",
            "The function DATE_PART is not allowed in SQLite rules; use strftime, date, substr, "
            "instr, ifnull, replace, CASE. (line 1, column 1)",
        ),
        (
            "SPLIT_PART(c.birth_date, '/', 3)",
            "SPLIT_PART is not a SQLite function (this Mart's rules are written in SQLite SQL); "
            "use substr() with instr(). (line 1, column 1)",
        ),
    ],
)
def test_the_same_functions_are_refused_on_a_sqlite_mart_naming_sqlite(
    engagement, ba, transformation, message
):
    mart(engagement, "sqlite")
    birth_year = rule(entity(engagement, ba), "birth_year")
    with pytest.raises(ValidationError) as refused:
        services.attribute_mapping_update(
            attribute_mapping=birth_year, data={"transformation": transformation}, acting_user=ba
        )
    assert refused.value.message_dict == {"transformation": [message]}
    birth_year.refresh_from_db()
    assert birth_year.transformation == ""


def test_sqlite_date_functions_are_accepted_on_a_sqlite_mart(engagement, ba):
    mart(engagement, "sqlite")
    birth_year = rule(entity(engagement, ba), "birth_year")
    saved = services.attribute_mapping_update(
        attribute_mapping=birth_year,
        data={
            "transformation": "CAST(strftime('%Y', date(substr(c.birth_date, 7, 4) || '-01-01')) AS INTEGER)"
        },
        acting_user=ba,
    )
    assert saved.lineage == ["c.birth_date"]


def test_row_number_deduplicates_in_a_lookup_and_is_refused_in_a_transformation(engagement, ba):
    mart(engagement, "postgres")
    customer = entity(
        engagement,
        ba,
        joins="LEFT JOIN (SELECT r.customer_id, r.segment FROM (\n"
        "    SELECT customer_id, segment,\n"
        "           ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY updated_at DESC) AS rn\n"
        "    FROM crm_record) r WHERE r.rn = 1) latest ON latest.customer_id = c.customer_id",
    )
    assert customer.problems == []
    segment = services.attribute_mapping_update(
        attribute_mapping=rule(customer, "segment"),
        data={"source_columns": "latest.segment"},
        acting_user=ba,
    )
    assert segment.lineage == ["latest.segment"]

    with pytest.raises(ValidationError) as refused:
        services.attribute_mapping_update(
            attribute_mapping=rule(customer, "rank"),
            data={"transformation": "ROW_NUMBER() OVER (ORDER BY c.customer_id)"},
            acting_user=ba,
        )
    [message] = refused.value.message_dict["transformation"]
    assert message.startswith(
        "ROW_NUMBER is a window function: it is allowed only inside a join's lookup SELECT"
    )


def test_an_aggregate_lookup_with_group_by_is_accepted(engagement, ba):
    mart(engagement, "postgres")
    customer = entity(
        engagement,
        ba,
        joins="LEFT JOIN (SELECT customer_id, COUNT(*) AS records, MAX(updated_at) AS last_seen\n"
        "  FROM crm_record GROUP BY customer_id) agg ON agg.customer_id = c.customer_id",
    )
    assert customer.problems == []


# --- real identifiers ----------------------------------------------------------------------------


def test_a_mixed_case_column_unquoted_on_postgres_is_refused_offering_the_quoted_name(
    engagement, ba
):
    mart(engagement, "postgres")
    name = rule(entity(engagement, ba), "name")
    with pytest.raises(ValidationError) as refused:
        services.attribute_mapping_update(
            attribute_mapping=name, data={"source_columns": "c.CustomerKey"}, acting_user=ba
        )
    assert refused.value.message_dict == {
        "source_columns": [
            "The table customer has no column CustomerKey (PostgreSQL reads an unquoted name in "
            'lower case): write c."CustomerKey". (line 1, column 1)'
        ]
    }
    saved = services.attribute_mapping_update(
        attribute_mapping=name, data={"source_columns": 'c."CustomerKey"'}, acting_user=ba
    )
    assert saved.lineage == ["c.CustomerKey"]


def test_a_wrongly_quoted_lower_case_column_on_postgres_is_refused(engagement, ba):
    mart(engagement, "postgres")
    name = rule(entity(engagement, ba), "name")
    with pytest.raises(ValidationError) as refused:
        services.attribute_mapping_update(
            attribute_mapping=name, data={"transformation": 'UPPER(c."Full_Name")'}, acting_user=ba
        )
    [message] = refused.value.message_dict["transformation"]
    assert "PostgreSQL matches a quoted name exactly): write c.full_name." in message


@pytest.mark.parametrize("dialect", ["sqlite", "mysql"])
def test_column_names_are_case_insensitive_on_sqlite_and_mysql(engagement, ba, dialect):
    mart(engagement, dialect)
    name = rule(entity(engagement, ba), "name")
    saved = services.attribute_mapping_update(
        attribute_mapping=name, data={"source_columns": "c.customerkey"}, acting_user=ba
    )
    assert saved.lineage == ["c.CustomerKey"]


@pytest.mark.parametrize("dialect", ["postgres", "sqlite", "duckdb"])
@pytest.mark.parametrize(
    ("attribute_name", "source", "lineage"),
    [("fiscal_year", "c.año_fiscal", "c.año_fiscal"), ("rank", 'c."order"', "c.order")],
)
def test_keyword_and_non_ascii_columns_are_direct_moves(
    engagement, ba, dialect, attribute_name, source, lineage
):
    mart(engagement, dialect)
    saved = services.attribute_mapping_update(
        attribute_mapping=rule(entity(engagement, ba), attribute_name),
        data={"source_columns": source},
        acting_user=ba,
    )
    assert (saved.source_columns, saved.lineage) == (source, [lineage])


def test_keyword_and_non_ascii_columns_work_in_joins_and_transformations(engagement, ba):
    mart(engagement, "postgres")
    customer = entity(
        engagement,
        ba,
        joins='LEFT JOIN customer prev ON prev.año_fiscal = c.año_fiscal - 1 AND prev."order" = 1',
        filter='c."order" > 0',
    )
    assert customer.problems == []
    saved = services.attribute_mapping_update(
        attribute_mapping=rule(customer, "fiscal_year"),
        data={"transformation": 'COALESCE(c.año_fiscal, prev.año_fiscal) + c."order" * 0'},
        acting_user=ba,
    )
    assert saved.lineage == ["c.año_fiscal", "prev.año_fiscal", "c.order"]


def test_a_direct_move_of_two_columns_is_still_refused(engagement, ba):
    mart(engagement, "postgres")
    with pytest.raises(ValidationError) as refused:
        services.attribute_mapping_update(
            attribute_mapping=rule(entity(engagement, ba), "name"),
            data={"source_columns": "c.full_name, c.birth_date"},
            acting_user=ba,
        )
    assert refused.value.message_dict == {
        "source_columns": [
            "A direct move names exactly one alias.column; write anything else as a transformation."
        ]
    }


@pytest.mark.parametrize(
    ("column", "dialect", "reference"),
    [
        ("CustomerKey", "postgres", 'c."CustomerKey"'),
        ("CustomerKey", "sqlite", "c.CustomerKey"),
        ("order", "postgres", 'c."order"'),
        ("año_fiscal", "postgres", "c.año_fiscal"),
    ],
)
def test_a_suggested_column_is_offered_as_the_dialect_needs_it_written(column, dialect, reference):
    suggested = ColumnFacts(table="customer", column=column, alias="c", dialect=dialect)
    assert suggested.reference == reference


def test_a_mixed_case_table_on_postgres_must_be_quoted_in_a_join(engagement, ba):
    source = mart(engagement, "postgres")
    notes = CatalogTableFactory(source=source, name="CrmNote")
    CatalogColumnFactory(table=notes, name="customer_id", data_type="INTEGER")
    customer = entity(engagement, ba)
    with pytest.raises(ValidationError) as refused:
        services.entity_mapping_update(
            entity_mapping=customer,
            data={"joins": "LEFT JOIN CrmNote n ON n.customer_id = c.customer_id"},
            acting_user=ba,
        )
    assert refused.value.message_dict == {
        "joins": [
            "The Mart has no table CrmNote (PostgreSQL reads an unquoted name in lower case): "
            'write "CrmNote". (line 1, column 11)'
        ]
    }
    saved = services.entity_mapping_update(
        entity_mapping=customer,
        data={"joins": 'LEFT JOIN "CrmNote" n ON n.customer_id = c.customer_id'},
        acting_user=ba,
    )
    assert saved.problems == []


# The common native functions of each dialect, as a BA on such a Mart writes them.
NATIVE_CALLS = {
    "postgres": [
        "TO_DATE(c.s, 'DD/MM/YYYY')",
        "TO_CHAR(c.d, 'YYYY')",
        "TO_NUMBER(c.s, '999D99')",
        "TO_TIMESTAMP(c.s, 'DD/MM/YYYY HH24:MI')",
        "DATE_PART('year', c.d)",
        "DATE_TRUNC('month', c.d)",
        "REGEXP_REPLACE(c.s, '[^0-9]', '', 'g')",
        "SPLIT_PART(c.s, '/', 2)",
        "INITCAP(c.s)",
        "LPAD(c.s, 5, '0')",
        "RPAD(c.s, 5)",
        "BTRIM(c.s)",
        "LTRIM(c.s)",
        "LEFT(c.s, 2)",
        "RIGHT(c.s, 2)",
        "CHAR_LENGTH(c.s)",
        "LENGTH(c.s)",
        "OCTET_LENGTH(c.s)",
        "STRPOS(c.s, 'a')",
        "POSITION('a' IN c.s)",
        "SUBSTRING(c.s FROM 1 FOR 2)",
        "SUBSTR(c.s, 1, 2)",
        "CONCAT_WS(' ', c.s, c.s)",
        "CONCAT(c.s, c.s)",
        "MD5(c.s)",
        "AGE(c.d)",
        "MAKE_DATE(2020, 1, c.n)",
        "NOW()",
        "CURRENT_DATE",
        "REPEAT(c.s, 2)",
        "REVERSE(c.s)",
        "CHR(65)",
        "ASCII(c.s)",
        "TRANSLATE(c.s, 'ab', 'cd')",
        "REPLACE(c.s, 'a', 'b')",
        "TRUNC(c.n)",
        "ROUND(c.n, 2)",
        "CEIL(c.n)",
        "CEILING(c.n)",
        "FLOOR(c.n)",
        "ABS(c.n)",
        "POWER(c.n, 2)",
        "SQRT(c.n)",
        "MOD(c.n, 2)",
        "SIGN(c.n)",
        "GREATEST(c.n, 1)",
        "LEAST(c.n, 1)",
        "NULLIF(c.s, '')",
        "COALESCE(c.s, 'x')",
        "EXTRACT(YEAR FROM c.d)",
        "c.s::date",
        "CAST(c.s AS INTEGER)",
        "CASE WHEN c.s = 'Y' THEN TRUE ELSE FALSE END",
        "c.s ~ '^[0-9]+$'",
        "c.s ILIKE 'a%'",
        "c.s IS DISTINCT FROM 'x'",
        "UPPER(c.s) || LOWER(c.s)",
        "TRIM(BOTH ' ' FROM c.s)",
        "REGEXP_SUBSTR(c.s, '[0-9]+')",
        "c.d + INTERVAL '1 day'",
        "FORMAT('%s-%s', c.s, c.s)",
        "STARTS_WITH(c.s, 'a')",
        "LOCALTIMESTAMP",
        "CURRENT_TIMESTAMP",
        "DATE(c.s)",
    ],
    "mysql": [
        "STR_TO_DATE(c.s, '%d/%m/%Y')",
        "DATE_FORMAT(c.d, '%Y')",
        "IFNULL(c.s, 'x')",
        "IF(c.n > 1, 'a', 'b')",
        "SUBSTRING_INDEX(c.s, '/', 1)",
        "UCASE(c.s)",
        "LCASE(c.s)",
        "LPAD(c.s, 5, '0')",
        "INSTR(c.s, 'a')",
        "LOCATE('a', c.s)",
        "REGEXP_REPLACE(c.s, 'a', 'b')",
        "DATE(c.s)",
        "DATE_ADD(c.d, INTERVAL 1 DAY)",
        "DATE_SUB(c.d, INTERVAL 1 DAY)",
        "DATEDIFF(c.d, c.d)",
        "TIMESTAMPDIFF(DAY, c.d, c.d)",
        "YEAR(c.d)",
        "MONTH(c.d)",
        "DAY(c.d)",
        "DAYOFWEEK(c.d)",
        "LAST_DAY(c.d)",
        "CURDATE()",
        "NOW()",
        "UNIX_TIMESTAMP(c.d)",
        "FROM_UNIXTIME(c.n)",
        "MAKEDATE(2020, 1)",
        "TRUNCATE(c.n, 2)",
        "CONCAT_WS(' ', c.s, c.s)",
        "CHAR_LENGTH(c.s)",
        "LEFT(c.s, 1)",
        "CAST(c.s AS SIGNED)",
        "CONVERT(c.s, SIGNED)",
        "FORMAT(c.n, 2)",
        "REPLACE(c.s, 'a', 'b')",
        "HEX(c.s)",
        "MD5(c.s)",
        "SHA2(c.s, 256)",
        "TIME_FORMAT(c.d, '%H')",
        "REVERSE(c.s)",
        "GREATEST(c.n, 1)",
        "QUARTER(c.d)",
        "WEEK(c.d)",
        "HOUR(c.d)",
        "EXTRACT(YEAR FROM c.d)",
        "c.s REGEXP '^a'",
    ],
    "sqlite": [
        "strftime('%Y', c.d)",
        "date(c.s)",
        "time(c.s)",
        "datetime(c.s)",
        "julianday(c.d)",
        "unixepoch(c.d)",
        "substr(c.s, 1, 2)",
        "instr(c.s, 'a')",
        "length(c.s)",
        "ltrim(c.s)",
        "replace(c.s, 'a', 'b')",
        "ifnull(c.s, 'x')",
        "iif(c.n > 1, 'a', 'b')",
        "nullif(c.s, '')",
        "abs(c.n)",
        "round(c.n, 2)",
        "printf('%05d', c.n)",
        "format('%05d', c.n)",
        "hex(c.s)",
        "quote(c.s)",
        "concat(c.s, c.s)",
        "concat_ws(' ', c.s, c.s)",
        "char(65)",
        "unicode(c.s)",
        "upper(c.s)",
        "lower(c.s)",
        "trim(c.s)",
        "coalesce(c.s, 'x')",
        "CAST(c.s AS INTEGER)",
        "c.s || c.s",
        "c.s GLOB 'a*'",
        "c.s LIKE 'a%'",
        "CASE WHEN c.s = 'Y' THEN 1 ELSE 0 END",
        "sign(c.n)",
        "octet_length(c.s)",
    ],
    "duckdb": [
        "strptime(c.s, '%d/%m/%Y')",
        "try_strptime(c.s, '%d/%m/%Y')",
        "strftime(c.d, '%Y')",
        "date_part('year', c.d)",
        "datepart('year', c.d)",
        "date_trunc('month', c.d)",
        "date_diff('day', c.d, c.d)",
        "datediff('day', c.d, c.d)",
        "make_date(2020, 1, 1)",
        "regexp_replace(c.s, 'a', 'b')",
        "regexp_extract(c.s, '[0-9]+')",
        "regexp_matches(c.s, '^a')",
        "split_part(c.s, '/', 2)",
        "left(c.s, 2)",
        "lpad(c.s, 5, '0')",
        "strlen(c.s)",
        "length(c.s)",
        "instr(c.s, 'a')",
        "strpos(c.s, 'a')",
        "starts_with(c.s, 'a')",
        "ends_with(c.s, 'a')",
        "contains(c.s, 'a')",
        "ifnull(c.s, 'x')",
        "greatest(c.n, 1)",
        "trunc(c.n)",
        "md5(c.s)",
        "sha256(c.s)",
        "year(c.d)",
        "month(c.d)",
        "last_day(c.d)",
        "printf('%05d', c.n)",
        "format('{}', c.n)",
        "now()",
        "today()",
        "concat_ws(' ', c.s, c.s)",
        "TRY_CAST(c.s AS INTEGER)",
        "c.s::DATE",
        "epoch(c.d)",
        "ucase(c.s)",
        "extract(year FROM c.d)",
        "replace(c.s, 'a', 'b')",
        "reverse(c.s)",
    ],
}


@pytest.mark.parametrize(
    ("dialect", "call"), [(d, call) for d, calls in NATIVE_CALLS.items() for call in calls]
)
def test_each_dialects_common_functions_are_accepted(dialect, call):
    """Whatever sqlglot reads them into (a typed class or an anonymous call) is recognised."""
    columns = {
        "s": ColumnInfo("s", "VARCHAR"),
        "d": ColumnInfo("d", "DATE"),
        "n": ColumnInfo("n", "INTEGER"),
    }
    scope = Scope(dialect=dialect, aliases={"c": TableInfo(name="t", columns=columns)})
    checked = check_expression(call, scope)
    assert checked.errors == []
