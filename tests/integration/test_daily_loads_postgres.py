"""Issue 13's story on PostgreSQL: the retailer's Mart is mapped through the workbook (customers and
order summaries merged on their keys, orders appended past a watermark), `generate_etl` writes the
SQL, and the files are run as shipped — `psql -v ON_ERROR_STOP=1 -f` in file order, every
constraint of the contract in force — on the first day, again the same day, and on the next day
after the Mart changed (a new customer with orders, a changed name and country, a deleted
customer). After every run each interface row equals what this module computes in Python from the
raw Mart rows; the same-day rerun rewrites no row (PostgreSQL's xmin of every row is unchanged)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_ADDRESS, _reachable, missing_service

from .test_retailer_mart_postgres import (
    CUSTOMERS,
    LATEST_VERSION,
    MART_DDL,
    ORDER_TOTALS,
    ORDERS,
    RULES,
    SERVER,
    VERSIONS,
    _create_database,
    _drop_database,
    _insert,
    _run,
    _signup,
    map_through_workbook,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

MART_DB = f"wb_daily_mart_{os.getpid()}"
MART_URL = f"{SERVER}/{MART_DB}"

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:retail:interface:daily
name: Retail Daily
version: 1.0.0
status: active
schema:
  - name: customer
    physicalName: if_customer
    properties:
      - {name: customer_id, logicalType: string, physicalType: VARCHAR(20), required: true,
         primaryKey: true, primaryKeyPosition: 1}
      - {name: full_name, logicalType: string, physicalType: VARCHAR(30), required: false}
      - {name: city, logicalType: string, physicalType: VARCHAR(50), required: true}
      - {name: login, logicalType: string, physicalType: VARCHAR(20), required: false,
         unique: true}
      - {name: vip, logicalType: boolean, physicalType: BOOLEAN, required: true}
      - {name: signup_date, logicalType: date, physicalType: DATE, required: false}
      - {name: region, logicalType: string, physicalType: VARCHAR(10), required: true}
  - name: order_summary
    physicalName: if_order_summary
    properties:
      - {name: customer_id, logicalType: string, physicalType: VARCHAR(20), required: true,
         primaryKey: true, primaryKeyPosition: 1,
         relationships: [{type: foreignKey, to: customer.customer_id}]}
      - {name: order_count, logicalType: integer, physicalType: INTEGER, required: true}
      - {name: total_amount, logicalType: number, physicalType: "DECIMAL(12,2)", required: true}
      - {name: last_fiscal_year, logicalType: integer, physicalType: INTEGER, required: false}
  - name: order
    physicalName: if_order
    properties:
      - {name: order_id, logicalType: integer, physicalType: INTEGER, required: true,
         primaryKey: true, primaryKeyPosition: 1}
      - {name: customer_id, logicalType: string, physicalType: VARCHAR(20), required: true,
         relationships: [{type: foreignKey, to: customer.customer_id}]}
      - {name: fiscal_year, logicalType: integer, physicalType: INTEGER, required: true}
      - {name: amount, logicalType: number, physicalType: "DECIMAL(12,2)", required: true}
      - {name: status, logicalType: string, physicalType: VARCHAR(20), required: true}
"""

# What the Tech BA types into the Entities sheet: FROM clause and load strategy.
ENTITIES = {
    "customer": {"Driving Table": "crm.customer", "Alias": "c", "Joins": LATEST_VERSION},
    "order_summary": {
        "Driving Table": "crm.customer",
        "Alias": "c",
        "Joins": ORDER_TOTALS,
        "Load Strategy": "Merge on key",
    },
    "order": {
        "Driving Table": "mkt.orders",
        "Alias": "o",
        "Load Strategy": "Append by watermark",
        "Watermark": "order_id",
    },
}
DAILY_RULES = {
    **RULES,
    "order": {
        "order_id": ("o.order_id", ""),
        "customer_id": ('CAST(o."CustomerKey" AS VARCHAR(20))', ""),
        "fiscal_year": ("o.año_fiscal", ""),
        "amount": ("CAST(REPLACE(o.amount, ',', '.') AS NUMERIC(12, 2))", ""),
        "status": ('o."order"', ""),
    },
}


# ---- the Mart: today's rows, and what changes overnight ---------------------------------------


class Mart:
    """The raw rows as they are now; `next_day` changes them the way the Mart's own jobs do."""

    def __init__(self) -> None:
        self.customers = list(CUSTOMERS)
        self.versions = list(VERSIONS)
        self.orders = list(ORDERS)

    def next_day(self, url: str) -> None:
        new_customer = (7, "GB", "2024-11-30")
        new_versions = [
            (7, dt.datetime(2024, 11, 30), "Ada Lovelace", "London", "ada", "Y"),
            (4, dt.datetime(2024, 12, 1), "José Núñez García", "Madrid", "jose", " Y "),
        ]
        new_orders = [(110, 7, 2025, "19,99", "shipped"), (111, 1, 2025, "5", "shipped")]
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            _insert(
                conn, "crm.customer", '"CustomerKey", country_code, signup_date', [new_customer]
            )
            _insert(
                conn,
                "crm.customer_version",
                '"CustomerKey", updated_at, full_name, city, "user", vip_flag',
                new_versions,
            )
            _insert(
                conn,
                "mkt.orders",
                'order_id, "CustomerKey", año_fiscal, amount, "order"',
                new_orders,
            )
            conn.exec_driver_sql(
                "UPDATE crm.customer SET country_code = 'GB' WHERE \"CustomerKey\" = 3"
            )
            conn.exec_driver_sql('DELETE FROM crm.customer WHERE "CustomerKey" = 5')
        engine.dispose()
        self.customers = [c for c in self.customers if c[0] != 5] + [new_customer]
        self.customers = [(3, "GB", c[2]) if c[0] == 3 else c for c in self.customers]
        self.versions += new_versions
        self.orders += new_orders

    # ---- the independent computation: Python over the raw rows, no SQL ----

    def customer_rows(self) -> dict[str, dict[str, Any]]:
        latest: dict[int, tuple] = {}
        for version in self.versions:
            if version[0] not in latest or version[1] > latest[version[0]][1]:
                latest[version[0]] = version
        rows = {}
        for key, country, signup in self.customers:
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

    def order_summary_rows(self) -> dict[str, dict[str, Any]]:
        rows = {}
        for key, _, _ in self.customers:
            kept = [o for o in self.orders if o[1] == key and o[4] != "cancelled"]
            rows[str(key)] = {
                "order_count": len(kept),
                "total_amount": sum((Decimal(o[3].replace(",", ".")) for o in kept), Decimal("0")),
                "last_fiscal_year": max((o[2] for o in kept), default=None),
            }
        return rows

    def order_rows(self) -> dict[int, dict[str, Any]]:
        return {
            order_id: {
                "customer_id": str(customer),
                "fiscal_year": year,
                "amount": Decimal(amount.replace(",", ".")).quantize(Decimal("0.01")),
                "status": status,
            }
            for order_id, customer, year, amount, status in self.orders
        }


@pytest.fixture
def mart() -> Iterator[Mart]:
    if not _reachable(POSTGRES_ADDRESS):
        missing_service("PostgreSQL is not reachable on 127.0.0.1:5432")
    if shutil.which("psql") is None:
        missing_service("psql (PostgreSQL's client) is not installed")
    _create_database(MART_DB)
    engine = sa.create_engine(MART_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(MART_DDL)
        _insert(conn, "crm.customer", '"CustomerKey", country_code, signup_date', CUSTOMERS)
        _insert(
            conn,
            "crm.customer_version",
            '"CustomerKey", updated_at, full_name, city, "user", vip_flag',
            VERSIONS,
        )
        _insert(conn, "mkt.orders", 'order_id, "CustomerKey", año_fiscal, amount, "order"', ORDERS)
    engine.dispose()
    yield Mart()
    _drop_database(MART_DB)


# ---- the story's steps ------------------------------------------------------------------------


def map_and_generate(engagement, ba, folder: Path) -> Path:
    map_through_workbook(
        engagement, ba, MART_URL, folder, contract=CONTRACT, entities=ENTITIES, rules=DAILY_RULES
    )
    slug = ["--engagement", engagement.slug, "--as", "ba"]
    _run("generate_etl", *slug, "--dialect", "postgres", "-o", str(folder / "etl"))
    return folder / "etl"


def run_as_shipped(etl: Path) -> None:
    """What the client's scheduler does: every SQL file, in file order, stopping at an error."""
    for path in sorted((etl / "sql").glob("*.sql")):
        done = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres",
             "-d", MART_DB, "-f", str(path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, f"{path.name}: {done.stderr}"


def table(name: str, key: str) -> dict:
    engine = sa.create_engine(MART_URL)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT * FROM {name}")).mappings().all()
    finally:
        engine.dispose()
    return {row[key]: {k: v for k, v in row.items() if k != key} for row in rows}


def row_versions() -> dict[str, list[str]]:
    """PostgreSQL's xmin of every interface row: a rewritten row gets a new one."""
    engine = sa.create_engine(MART_URL)
    try:
        with engine.connect() as conn:
            return {
                name: sorted(conn.execute(sa.text(f"SELECT xmin::text FROM {name}")).scalars())
                for name in ("if_customer", "if_order_summary", "if_order")
            }
    finally:
        engine.dispose()


def assert_interface_equals(mart: Mart) -> None:
    assert table("if_customer", "customer_id") == mart.customer_rows()
    assert table("if_order_summary", "customer_id") == mart.order_summary_rows()
    assert table("if_order", "order_id") == mart.order_rows()


def test_the_shipped_sql_loads_postgresql_every_day_and_reruns_change_nothing(
    mart, engagement, ba, tmp_path
):
    # Given the retailer's mapping, generated for PostgreSQL
    etl = map_and_generate(engagement, ba, tmp_path)
    files = sorted(p.name for p in (etl / "sql").glob("*.sql"))
    assert files == [
        "00_create_interface.sql",
        "01_customer.sql",
        "02_order_summary.sql",
        "03_order.sql",
        "04_purge_order_summary.sql",
        "05_purge_customer.sql",
    ]
    # with every constraint of the contract in the DDL
    ddl = " ".join((etl / "sql" / "00_create_interface.sql").read_text().split())
    assert "UNIQUE ( login )" in ddl
    assert "FOREIGN KEY (customer_id) REFERENCES if_customer ( customer_id )" in ddl

    # When the files run on the first day, then the interface equals the Python computation
    run_as_shipped(etl)
    assert_interface_equals(mart)

    # When they run again the same day, then nothing changes: no row is even rewritten
    before = row_versions()
    run_as_shipped(etl)
    assert row_versions() == before
    assert_interface_equals(mart)

    # When the Mart changes overnight and the files run the next day
    mart.next_day(MART_URL)
    run_as_shipped(etl)
    # Then the interface equals a fresh computation over the changed Mart: customer 7 and its
    # order are in, customer 4's new name and 3's region show, customer 5 is gone
    assert_interface_equals(mart)
    customers = table("if_customer", "customer_id")
    assert "5" not in customers and customers["7"]["full_name"] == "Ada Lovelace"
    assert (customers["4"]["city"], customers["3"]["region"]) == ("Madrid", "UK")
