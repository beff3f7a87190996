"""Issue 12's story on PostgreSQL, end to end: a multi-country retailer's Mart in two schemas, messy
as real Marts are (quoted mixed-case and keyword columns, non-ASCII names and values, several CRM
record versions per customer, text dates in two formats, decimal commas, Y/N flags), is cataloged,
mapped through the exported workbook, generated for postgres and test-run from one PostgreSQL
database into another. Every loaded row equals what this module computes in Python from the raw
rows it inserted; a generator that rewrites one rule fails the field-value test; functions that
read files, sleep or reach other databases are refused wherever this mapping takes SQL."""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from sqlglot import exp

from contracts import services as contract_services
from exports.models import TestRun
from exports.services import testrun as testrun_services
from mappings.demo import _is_direct
from mappings.models import AttributeMapping, EntityMapping
from mappings.services import mapping as mapping_services
from tests.conftest import POSTGRES_ADDRESS, _reachable, missing_service
from tests.factories import member
from workbench.choices import Role

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
MART_DB = f"wb_retail_mart_{os.getpid()}"
MART_URL = f"{SERVER}/{MART_DB}"

MART_DDL = """
CREATE SCHEMA crm;
CREATE SCHEMA mkt;
CREATE TABLE crm.customer (
    "CustomerKey" integer PRIMARY KEY,
    country_code text,
    signup_date text
);
CREATE TABLE crm.customer_version (
    "CustomerKey" integer NOT NULL REFERENCES crm.customer ("CustomerKey"),
    updated_at timestamp NOT NULL,
    full_name text,
    city text,
    "user" text,
    vip_flag text,
    PRIMARY KEY ("CustomerKey", updated_at)
);
CREATE TABLE mkt.orders (
    order_id integer PRIMARY KEY,
    "CustomerKey" integer NOT NULL,
    año_fiscal integer NOT NULL,
    amount text,
    "order" text
);
"""

# The raw rows, messy on purpose; the expected load below is computed from these in Python.
CUSTOMERS = [  # CustomerKey, country_code, signup_date (ISO or DD/MM/YYYY)
    (1, "GB", "2021-03-04"),
    (2, "PL", "05/06/2022"),
    (3, "DE", "2020-12-31"),
    (4, "ES", "01/02/2019"),
    (5, "FR", None),
    (6, "GB", "2023-07-15"),
]
VERSIONS = [  # CustomerKey, updated_at, full_name, city, user, vip_flag
    (1, dt.datetime(2023, 1, 1), "  Zoe Old  ", "London", "zoe", "N"),
    (1, dt.datetime(2024, 5, 2), "  Zoë Ward  ", "London", "zoe.w", "Y"),
    (2, dt.datetime(2022, 1, 1), "Jan Kowalski", "Warszawa", "jank", "y"),
    (2, dt.datetime(2024, 2, 2), " Jan Kowalski", "Łódź", "jan.k", "N"),
    (2, dt.datetime(2023, 3, 3), "Jan K.", "Kraków", "jk", "Y"),
    (3, dt.datetime(2024, 1, 1), "Anneliese Maximiliane von Habsburg-Lothringen", None, "al", None),
    (4, dt.datetime(2021, 6, 6), "José Núñez", "Sevilla", "jose", " Y "),
    (6, dt.datetime(2024, 8, 1), "Émile\tZola ", "Paris", None, "N"),
    (6, dt.datetime(2024, 8, 2), "Émile Zola", "Lyon", "emile", "Y"),
]
ORDERS = [  # order_id, CustomerKey, año_fiscal, amount (decimal comma), order (status)
    (100, 1, 2023, "12,50", "shipped"),
    (101, 1, 2024, "7,5", "shipped"),
    (102, 1, 2024, "99,99", "cancelled"),
    (103, 2, 2022, "100", "shipped"),
    (104, 2, 2025, "0,01", "returned"),
    (105, 3, 2021, "1250,00", "shipped"),
    (106, 4, 2020, "3,33", "cancelled"),
    (107, 6, 2024, "45,10", "shipped"),
    (108, 6, 2024, "4,90", "shipped"),
    (109, 6, 2023, "10", "shipped"),
]

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:retail:interface:customer-orders
name: Retail Customer Orders
version: 1.0.0
status: active
schema:
  - name: customer
    physicalName: if_customer
    properties:
      - {name: customer_id, logicalType: string, physicalType: VARCHAR(20), required: true,
         primaryKey: true, primaryKeyPosition: 1}
      - {name: full_name, logicalType: string, physicalType: VARCHAR(30), required: false,
         logicalTypeOptions: {maxLength: 30}}
      - {name: city, logicalType: string, physicalType: VARCHAR(50), required: true,
         logicalTypeOptions: {maxLength: 50}}
      - {name: login, logicalType: string, physicalType: VARCHAR(20), required: false,
         logicalTypeOptions: {maxLength: 20}}
      - {name: vip, logicalType: boolean, physicalType: BOOLEAN, required: true}
      - {name: signup_date, logicalType: date, physicalType: DATE, required: false}
      - {name: region, logicalType: string, physicalType: VARCHAR(10), required: true,
         logicalTypeOptions: {maxLength: 10}}
  - name: order_summary
    physicalName: if_order_summary
    properties:
      - {name: customer_id, logicalType: string, physicalType: VARCHAR(20), required: true,
         primaryKey: true, primaryKeyPosition: 1}
      - {name: order_count, logicalType: integer, physicalType: INTEGER, required: true}
      - {name: total_amount, logicalType: number, physicalType: "DECIMAL(12,2)", required: true}
      - {name: last_fiscal_year, logicalType: integer, physicalType: INTEGER, required: false}
"""

LATEST_VERSION = (
    'LEFT JOIN (SELECT "CustomerKey", full_name, city, "user", vip_flag, '
    'ROW_NUMBER() OVER (PARTITION BY "CustomerKey" ORDER BY updated_at DESC) AS rn '
    'FROM crm.customer_version) v ON v."CustomerKey" = c."CustomerKey" AND v.rn = 1'
)
ORDER_TOTALS = (
    'LEFT JOIN (SELECT "CustomerKey", COUNT(*) AS n, '
    "SUM(CAST(REPLACE(amount, ',', '.') AS NUMERIC(12, 2))) AS total, "
    "MAX(año_fiscal) AS fy FROM mkt.orders WHERE \"order\" <> 'cancelled' "
    'GROUP BY "CustomerKey") o ON o."CustomerKey" = c."CustomerKey"'
)
SIGNUP = (
    "CASE WHEN c.signup_date LIKE '__/__/____' THEN TO_DATE(c.signup_date, 'DD/MM/YYYY') "
    "ELSE TO_DATE(c.signup_date, 'YYYY-MM-DD') END"
)
# What the Tech BA types into the workbook: the FROM clauses, then (rule, default) per attribute.
FROM = {
    "customer": ("crm.customer", "c", LATEST_VERSION),
    "order_summary": ("crm.customer", "c", ORDER_TOTALS),
}
RULES = {
    "customer": {
        "customer_id": ('CAST(c."CustomerKey" AS VARCHAR(20))', ""),
        "full_name": ("LEFT(TRIM(v.full_name), 30)", ""),
        "city": ("v.city", "Unknown"),
        "login": ('v."user"', ""),
        "vip": ("CASE WHEN UPPER(TRIM(v.vip_flag)) = 'Y' THEN TRUE ELSE FALSE END", ""),
        "signup_date": (SIGNUP, ""),
        "region": ("CASE WHEN c.country_code = 'GB' THEN 'UK' ELSE 'EU' END", ""),
    },
    "order_summary": {
        "customer_id": ('CAST(c."CustomerKey" AS VARCHAR(20))', ""),
        "order_count": ("o.n", "0"),
        "total_amount": ("o.total", "0"),
        "last_fiscal_year": ("o.fy", ""),
    },
}


# ---- the independent computation: Python over the raw rows, no SQL --------------------------


def _signup(text: str | None) -> dt.date | None:
    if text is None:
        return None
    fmt = "%d/%m/%Y" if "/" in text else "%Y-%m-%d"
    return dt.datetime.strptime(text, fmt).date()


def expected_customers() -> dict[str, dict[str, Any]]:
    latest: dict[int, tuple] = {}
    for version in VERSIONS:
        if version[0] not in latest or version[1] > latest[version[0]][1]:
            latest[version[0]] = version
    rows = {}
    for key, country, signup in CUSTOMERS:
        _, _, name, city, user, flag = latest.get(key, (key, None, None, None, None, None))
        rows[str(key)] = {
            "full_name": name.strip(" ")[:30] if name is not None else None,
            "city": city if city is not None else "Unknown",
            "login": user,
            "vip": (flag or "").strip(" ").upper() == "Y",
            "signup_date": _signup(signup),
            "region": "UK" if country == "GB" else "EU",
        }
    return rows


def expected_order_summary() -> dict[str, dict[str, Any]]:
    rows = {}
    for key, _, _ in CUSTOMERS:
        kept = [o for o in ORDERS if o[1] == key and o[4] != "cancelled"]
        rows[str(key)] = {
            "order_count": len(kept),
            "total_amount": sum((Decimal(o[3].replace(",", ".")) for o in kept), Decimal("0")),
            "last_fiscal_year": max((o[2] for o in kept), default=None),
        }
    return rows


# ---- scratch databases ----------------------------------------------------------------------


def _admin() -> sa.Engine:
    return sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")


def _create_database(name: str) -> None:
    with _admin().connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')


def _drop_database(name: str) -> None:
    with _admin().connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _insert(conn: sa.Connection, table: str, columns: str, rows: list[tuple]) -> None:
    marks = ", ".join(f":p{i}" for i in range(len(rows[0])))
    statement = sa.text(f"INSERT INTO {table} ({columns}) VALUES ({marks})")
    conn.execute(statement, [{f"p{i}": v for i, v in enumerate(row)} for row in rows])


@pytest.fixture(scope="module")
def retailer_mart() -> Iterator[str]:
    """The retailer's Mart in a scratch database, dropped after the module."""
    if not _reachable(POSTGRES_ADDRESS):
        missing_service("PostgreSQL is not reachable on 127.0.0.1:5432")
    _create_database(MART_DB)
    mart = sa.create_engine(MART_URL)
    with mart.begin() as conn:
        conn.exec_driver_sql(MART_DDL)
        _insert(conn, "crm.customer", '"CustomerKey", country_code, signup_date', CUSTOMERS)
        _insert(
            conn,
            "crm.customer_version",
            '"CustomerKey", updated_at, full_name, city, "user", vip_flag',
            VERSIONS,
        )
        _insert(conn, "mkt.orders", 'order_id, "CustomerKey", año_fiscal, amount, "order"', ORDERS)
    mart.dispose()
    yield MART_URL
    _drop_database(MART_DB)


@pytest.fixture
def target_database() -> Iterator[str]:
    name = f"wb_retail_target_{os.getpid()}"
    _create_database(name)
    yield f"{SERVER}/{name}"
    _drop_database(name)


# ---- the story's steps ----------------------------------------------------------------------


@pytest.fixture
def etl(engagement):
    return member(engagement, Role.ETL_DEVELOPER, "etl")


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def fill_workbook(path: Path, entities: dict[str, dict[str, str]], rules: dict) -> None:
    """The Tech BA fills the exported workbook: per entity the Entities sheet's cells given by
    column, per attribute its (rule, default) in the Mapping sheet."""
    book = openpyxl.load_workbook(path)
    sheet = book["Entities"]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        cells = dict(zip(header, row, strict=False))
        for column, value in entities[cells["Interface Entity"].value].items():
            cells[column].value = value
    mapping = book["Mapping"]
    header = [cell.value for cell in mapping[1]]
    for row in mapping.iter_rows(min_row=2):
        cells = dict(zip(header, row, strict=False))
        rule, default = rules[cells["Interface Entity"].value][cells["Interface Attribute"].value]
        cells["Source Column(s)" if _is_direct(rule) else "Transformation"].value = rule
        cells["Default Value"].value = default
    book.save(path)


def map_through_workbook(
    engagement, ba, mart_url: str, folder: Path, *, contract: str, entities: dict, rules: dict
) -> None:
    """Contract published, Mart cataloged in both schemas, mapping written through the workbook."""
    layer = contract_services.contract_import(
        engagement=engagement,
        file_name="retail.odcs.yaml",
        content=contract.encode(),
        acting_user=ba,
    )
    contract_services.contract_publish(layer=layer, acting_user=ba)
    slug = ["--engagement", engagement.slug, "--as", "ba"]
    _run("introspect_mart", *slug, "--url", mart_url, "--schema", "crm", "--schema", "mkt")
    workbook = folder / "spec.xlsx"
    _run("export_spec", *slug, "-o", str(workbook))
    fill_workbook(workbook, entities, rules)
    imported = _run("import_spec", *slug, str(workbook))
    assert imported.endswith("(0 conflicts refused)\n"), imported


def map_the_retailer(engagement, ba, mart_url: str, folder: Path) -> None:
    entities = {
        name: {"Driving Table": table, "Alias": alias, "Joins": joins}
        for name, (table, alias, joins) in FROM.items()
    }
    map_through_workbook(
        engagement, ba, mart_url, folder, contract=CONTRACT, entities=entities, rules=RULES
    )


def loaded(target_url: str, table: str, columns: list[str]) -> dict[str, dict[str, Any]]:
    engine = sa.create_engine(target_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT customer_id, {', '.join(columns)} FROM {table}"))
            return {r[0]: dict(zip(columns, r[1:], strict=True)) for r in rows}
    finally:
        engine.dispose()


def test_the_retailer_is_mapped_generated_and_loaded_exactly_as_python_computes_it(
    retailer_mart, target_database, engagement, ba, etl, tmp_path
):
    # Given the retailer's contract, Mart and workbook-written mapping
    map_the_retailer(engagement, ba, retailer_mart, tmp_path)
    slug = ["--engagement", engagement.slug, "--as", "etl"]
    # When the ETL Developer generates for postgres and test-runs into another database
    _run("generate_etl", *slug, "--dialect", "postgres", "-o", str(tmp_path / "etl"))
    assert any((tmp_path / "etl").rglob("*.sql"))
    _run("run_etl_test", *slug, "--source", retailer_mart, "--target", target_database)
    # Then every unit test passed (the command exits non-zero otherwise) ...
    run = TestRun.objects.get(engagement=engagement)
    assert (run.tests_failed, run.tests_total > 0) == (0, True)
    names = {r.name for r in run.results.all()}
    compared = {f"{e}.{a}: field values" for e in RULES for a in RULES[e] if a != "customer_id"}
    assert compared <= names, compared - names
    # ... and every loaded row equals the independent computation
    customers = expected_customers()
    assert loaded(target_database, "if_customer", list(customers["1"])) == customers
    summary = expected_order_summary()
    assert loaded(target_database, "if_order_summary", list(summary["1"])) == summary


def test_a_generator_that_rewrites_one_rule_fails_the_field_value_test(
    retailer_mart, target_database, engagement, ba, etl, tmp_path, monkeypatch
):
    # Given the mapped retailer, and a generator bug: full_name loaded with UPPER, not TRIM
    map_the_retailer(engagement, ba, retailer_mart, tmp_path)
    honest_build = testrun_services.build_plan

    def dishonest_build(**kwargs):
        plan = honest_build(**kwargs)
        column = plan.entity("customer").column("full_name")
        for trim in list(column.value.find_all(exp.Trim)):
            trim.replace(exp.Upper(this=trim.this.copy()))
        return plan

    monkeypatch.setattr(testrun_services, "build_plan", dishonest_build)
    # When the test run loads it
    slug = ["--engagement", engagement.slug, "--as", "etl"]
    with pytest.raises(CommandError, match="unit tests failed"):
        _run("run_etl_test", *slug, "--source", retailer_mart, "--target", target_database)
    # Then the field-value test of full_name is the one that fails
    run = TestRun.objects.get(engagement=engagement)
    failed = [r.name for r in run.results.filter(passed=False)]
    assert failed == ["customer.full_name: field values"], failed


DANGEROUS = [
    "pg_read_file('/etc/passwd')",
    "pg_sleep(10)",
    "dblink('host=evil', 'SELECT 1')",
    "readfile('/etc/passwd')",
    "load_extension('/tmp/evil.so')",
]


@pytest.mark.parametrize("call", DANGEROUS)
def test_a_dangerous_function_is_refused_wherever_the_retailer_mapping_takes_sql(
    retailer_mart, engagement, ba, tmp_path, call
):
    map_the_retailer(engagement, ba, retailer_mart, tmp_path)
    customer = EntityMapping.objects.get(engagement=engagement, entity_name="customer")
    full_name = AttributeMapping.objects.get(entity_mapping=customer, attribute_name="full_name")
    lookup = LATEST_VERSION.replace("vip_flag, ", f"vip_flag, {call} AS z, ")
    city = AttributeMapping.objects.get(entity_mapping=customer, attribute_name="city")
    attempts = [
        ("joins", lambda: _update_entity(customer, ba, {"joins": lookup})),
        ("filter", lambda: _update_entity(customer, ba, {"filter": f"{call} IS NOT NULL"})),
        ("transformation", lambda: _update_rule(full_name, ba, {"transformation": call})),
        ("default_value", lambda: _update_rule(city, ba, {"default_value": call})),
    ]
    for field, attempt in attempts:
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert field in refused.value.message_dict, (field, refused.value)
    customer.refresh_from_db()
    full_name.refresh_from_db()
    city.refresh_from_db()
    assert (customer.joins, customer.filter) == (LATEST_VERSION, "")
    assert full_name.transformation == RULES["customer"]["full_name"][0]
    assert city.default_value == RULES["customer"]["city"][1]


def _update_entity(entity: EntityMapping, ba, data: dict) -> None:
    mapping_services.entity_mapping_update(entity_mapping=entity, data=data, acting_user=ba)


def _update_rule(rule: AttributeMapping, ba, data: dict) -> None:
    mapping_services.attribute_mapping_update(attribute_mapping=rule, data=data, acting_user=ba)
