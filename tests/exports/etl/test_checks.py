"""Stories of the one list of checks (exports.testrun.checks): every constraint a contract states
becomes a check, and each shipped query counts exactly the rows that break it on a real engine."""

from __future__ import annotations

import re
import sqlite3

import pytest
import sqlglot
import yaml
from sqlglot import exp

from contracts.demo import DEMO_CONTRACT
from contracts.models import InterfaceAttribute
from exports.etl import sql
from exports.etl.plan import Column, EntityPlan, EtlPlan, ForeignKey, build_plan, target_type
from exports.etl.unit_tests import parse_checks, unit_tests_sql
from exports.testrun.checks import all_checks, field_value_tree
from mappings.models import AttributeMapping
from tests.conftest import require_module

CONTRACT_KINDS = {
    "not_null",
    "primary_key",
    "unique",
    "foreign_key",
    "allowed_values",
    "pattern",
    "max_length",
    "min_length",
    "precision",
    "minimum",
    "maximum",
}


def _stated(document: dict) -> set[tuple[str, str, str]]:
    """What the ODCS document states, read here from the YAML alone: (entity, attribute, kind)."""
    stated = set()
    for schema in document["schema"]:
        entity, properties = schema["name"], schema["properties"]
        keys = [p["name"] for p in properties if p.get("primaryKey")]
        if keys:
            stated.add((entity, ", ".join(keys), "primary_key"))
        for relationship in schema.get("relationships", []):
            stated.add((entity, relationship["from"].split(".")[1], "foreign_key"))
        for prop in properties:
            name, options = prop["name"], prop.get("logicalTypeOptions", {})
            declared = re.fullmatch(r"(?:VAR)?CHAR\((\d+)\)", prop.get("physicalType", ""))
            kinds = {
                "not_null": prop.get("required") or prop.get("primaryKey"),
                "unique": prop.get("unique") and keys != [name],
                "foreign_key": prop.get("relationships"),
                "allowed_values": any(
                    q.get("metric") == "invalidValues" for q in prop.get("quality", [])
                ),
                "pattern": "pattern" in options,
                "max_length": "maxLength" in options or declared,
                "precision": prop.get("physicalType", "").startswith("DECIMAL"),
                "minimum": "minimum" in options,
                "maximum": "maximum" in options,
            }
            stated |= {(entity, name, kind) for kind, holds in kinds.items() if holds}
    return stated


def test_every_constraint_the_demo_contract_states_is_a_check(mapped):
    # Given the demo contract as its file states it
    stated = _stated(yaml.safe_load(DEMO_CONTRACT.read_text()))
    # When the checks of the mapped engagement are listed
    checks = all_checks(build_plan(engagement=mapped), dialect="postgres")
    # Then each stated constraint is checked once, and nothing else is claimed of the contract
    listed = [(c.entity, c.attribute, c.kind) for c in checks if c.kind in CONTRACT_KINDS]
    assert len(listed) == len(set(listed))
    assert set(listed) == stated
    # And the unique campaign code is checked beside the key, with what the dbt tests need
    unique = next(c for c in checks if c.key == "campaign.campaign_code.unique")
    assert unique.meta == {"columns": ["campaign_code"]}
    assert "customer.customer_id.unique" not in {c.key for c in checks}  # its key check proves it
    # And the rest of the list is the mapping's: a record count per entity, the rules' results
    # measured in the Mart before the cast, and the field values
    others = {c.kind for c in checks if c.kind not in CONTRACT_KINDS}
    assert others == {"record_count", "fits_before_cast", "field_values"}


# --- a contract of our own, with what the demo's lacks ------------------------------------------


def _column(name: str, **stated) -> Column:
    attribute = InterfaceAttribute(name=name, **stated)
    return Column(
        name=name,
        attribute=attribute,
        data_type=target_type(attribute),
        value=exp.null(),
        rule=None,
        mapping=None,
    )


def _orders_plan() -> EtlPlan:
    """Order lines keyed by (order_id, line_no), with a unique SKU of a pattern and a minimum
    length, bounded quantities, a price of DECIMAL(8, 2) above 0 and a product they refer to."""
    product = EntityPlan(
        name="product",
        table="if_product",
        description="",
        mapping=None,
        driving=exp.to_table("src_product"),
        columns=[_column("product_id", logical_type="string", required=True, primary_key=True)],
    )
    line = EntityPlan(
        name="order_line",
        table="if_order_line",
        description="",
        mapping=None,
        driving=exp.to_table("src_order_line"),
        columns=[
            _column("order_id", logical_type="integer", primary_key=True, primary_key_position=1),
            _column("line_no", logical_type="integer", primary_key=True, primary_key_position=2),
            _column(
                "sku",
                logical_type="string",
                physical_type="VARCHAR(12)",
                unique=True,
                pattern=r"^[A-Z]{3}-[0-9]+$",
                extra={"logicalTypeOptions": {"minLength": 5}},
            ),
            _column("qty", logical_type="integer", minimum=1, maximum=100),
            _column(
                "price",
                logical_type="number",
                precision=8,
                scale=2,
                extra={"logicalTypeOptions": {"exclusiveMinimum": 0}},
            ),
            _column("status", logical_type="string", allowed_values=["open", "shipped"]),
            # the contract accepts up to 20 % of the lines sold elsewhere
            _column(
                "channel",
                logical_type="string",
                allowed_values=["web", "store"],
                extra={"validValuesRule": {"mustBeLessOrEqualTo": 20, "unit": "percent"}},
            ),
            # and up to 10 % of them shipped to a region outside the list
            _column(
                "region",
                logical_type="string",
                allowed_values=["north", "south"],
                extra={"validValuesRule": {"mustBeLessOrEqualTo": 10, "unit": "percent"}},
            ),
            _column("product_id", logical_type="string"),
        ],
        foreign_keys=[ForeignKey(("product_id",), "product", "if_product", ("product_id",))],
    )
    return EtlPlan(
        engagement=None,  # type: ignore[arg-type]  # the SQL files need no engagement
        contract_name="Orders",
        contract_version="1",
        entities=[product, line],
        cycle=[],
        stamp=None,  # type: ignore[arg-type]
    )


LINES = [
    # order_id, line_no, sku, qty, price, status, product_id (channel and region: see _load)
    (1, 1, "ABC-1", 1, 9.99, "open", "P1"),
    (1, 2, "ABC-2", 5, 1.0, "open", "P2"),
    (1, 2, "ABC-3", 5, 1.0, "open", "P1"),  # the key of the line before
    (2, 1, "ABC-1", 3, 2.0, "shipped", "P1"),  # the SKU of the first line
    (2, 2, "AB-1", 0, 0.0, "lost", "P9"),  # short SKU off the pattern, no qty, free, lost, orphan
    (3, 1, None, 101, 5.0, "open", None),  # too many; no SKU and no product are no breaks
    (3, 2, "XYZ-12", 7, 1234567.5, "open", "P2"),  # wider than DECIMAL(8, 2)
    (4, None, "XYZ-13", 2, 3.0, "open", "P2"),  # a key column missing
]

# What each shipped query must answer on LINES: the rows breaking the check.
EXPECTED = {
    "product.record_count": 0,
    "product.product_id.not_null": 0,
    "product.product_id.primary_key": 0,
    "order_line.record_count": 1,  # the source has one line fewer
    "order_line.order_id.not_null": 0,
    "order_line.line_no.not_null": 1,
    "order_line.order_id+line_no.primary_key": 2,
    "order_line.sku.unique": 2,
    "order_line.product_id.foreign_key": 1,
    "order_line.sku.max_length": 0,
    "order_line.sku.min_length": 1,
    "order_line.sku.pattern": 1,
    "order_line.qty.minimum": 1,
    "order_line.qty.maximum": 1,
    "order_line.price.precision": 1,
    "order_line.price.minimum": 1,
    "order_line.status.allowed_values": 1,
    "order_line.channel.allowed_values": 0,  # within the contract's tolerance
    "order_line.region.allowed_values": 1,  # past it
}


def _load(execute) -> None:
    execute("CREATE TABLE src_product (product_id VARCHAR)")
    execute("CREATE TABLE if_product (product_id VARCHAR)")
    execute("INSERT INTO src_product VALUES ('P1'), ('P2')")
    execute("INSERT INTO if_product VALUES ('P1'), ('P2')")
    columns = "order_id INTEGER, line_no INTEGER, sku VARCHAR, qty INTEGER, price DOUBLE, "
    columns += "status VARCHAR, product_id VARCHAR, channel VARCHAR, region VARCHAR"
    execute(f"CREATE TABLE if_order_line ({columns})")
    execute(f"CREATE TABLE src_order_line ({columns})")
    for n, row in enumerate(LINES):
        channel, region = ("fax", "west") if n == 4 else ("web", "north")  # 1 of 8: 12.5 %
        values = ", ".join("NULL" if v is None else repr(v) for v in (*row, channel, region))
        execute(f"INSERT INTO if_order_line VALUES ({values})")
        if n:
            execute(f"INSERT INTO src_order_line VALUES ({values})")


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite"])
def test_each_shipped_query_counts_the_rows_breaking_its_check(dialect):
    # Given order lines breaking each constraint a known number of times
    if dialect == "duckdb":
        connection = require_module("duckdb").connect()
    else:
        connection = sqlite3.connect(":memory:")
        connection.create_function(  # as the file's header asks of a SQLite runner
            "regexp", 2, lambda p, v: v is not None and re.search(p, v) is not None
        )
    _load(connection.execute)
    # When tests/unit_tests.sql is written for the contract and each query runs as the file has it
    shipped = parse_checks(unit_tests_sql(_orders_plan(), dialect))
    answered = {c.key: connection.execute(c.sql).fetchone()[0] for c in shipped}
    # Then every check is there once, answering the rows that break it
    assert len(shipped) == len(answered)
    assert answered == EXPECTED
    # And a check line names its check: (entity, attribute, kind) read back from the key
    keyed = next(c for c in shipped if c.kind == "primary_key" and c.entity == "order_line")
    assert (keyed.attribute, keyed.description) == (
        "order_id, line_no",
        "No two rows share the primary key (order_id, line_no).",
    )


def test_the_shipped_file_is_one_query_per_check_line():
    text = unit_tests_sql(_orders_plan(), "postgres")
    lines = text.splitlines()
    named = [n for n, line in enumerate(lines) if re.match(r"^-- [^\s:]+: ", line)]
    assert len(named) == len(EXPECTED)
    for start, end in zip(named, [*named[1:], len(lines)], strict=True):
        body = [line for line in lines[start + 1 : end] if line.strip()]
        # one statement: only its last line ends with ";"
        assert [line.endswith(";") for line in body] == [False] * (len(body) - 1) + [True]
        assert not any(line.startswith("--") for line in body)


# --- the field-value sample ------------------------------------------------------------------


def _customers_keyed_by(rule: str) -> EntityPlan:
    """Customers whose interface key is `rule`, computed from the Mart's integer key."""
    key = _column("customer_id", logical_type="string", primary_key=True)
    key.rule = sqlglot.parse_one(rule, read="sqlite")
    key.mapping = AttributeMapping(transformation=rule)
    name = _column("name", logical_type="string")
    name.rule = sqlglot.parse_one("UPPER(c.name)", read="sqlite")
    name.mapping = AttributeMapping(transformation="UPPER(c.name)")
    return EntityPlan(
        name="customer",
        table="if_customer",
        description="",
        mapping=None,
        driving=exp.alias_(exp.to_table("crm_customer"), "c", table=True),
        columns=[key, name],
        dialect="sqlite",
    )


def _sampled(rule: str) -> tuple[list[str], str]:
    """The keys a sample of three reads from a Mart of twelve customers, and how SQLite plans it."""
    mart = sqlite3.connect(":memory:")
    mart.execute("CREATE TABLE crm_customer (customer_id INTEGER PRIMARY KEY, name TEXT)")
    mart.executemany("INSERT INTO crm_customer VALUES (?, ?)", [(n, f"n{n}") for n in range(1, 13)])
    query = sql.render(field_value_tree(_customers_keyed_by(rule), None, limit=3), "sqlite")
    plan = " / ".join(row[-1] for row in mart.execute(f"EXPLAIN QUERY PLAN {query}"))
    return [row[0] for row in mart.execute(query)], plan


def test_a_field_value_sample_is_the_first_mart_rows_by_the_columns_its_key_is_computed_from():
    # Given a key computed as text from the Mart's integer key
    # When the test run samples three rows to recompute their rules
    keys, plan = _sampled("CAST(c.customer_id AS TEXT)")
    # Then the sample is the Mart's first three customers, read in its own key order: no key of
    # the other nine is computed and sorted to find them
    assert keys == ["1", "2", "3"]
    assert "TEMP B-TREE" not in plan, plan


def test_a_key_from_a_window_samples_by_the_computed_keys():
    # Given a key the Mart computes over every row (a window), not from the row's own columns
    keys, plan = _sampled("CAST(ROW_NUMBER() OVER (ORDER BY c.name) AS TEXT)")
    # Then the sample is ordered by the computed keys, text order included
    assert keys == ["1", "10", "11"]
    assert "TEMP B-TREE FOR ORDER BY" in plan, plan
