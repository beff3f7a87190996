"""Issue 13's daily story on Spark: the retailer's mapping of test_daily_loads_postgres (customers
and order summaries merged on their keys, orders appended past a watermark) generated for Spark,
the Mart's tables copied from PostgreSQL into Spark databases of the same names, and the files run
as shipped on local pyspark — the first day, again the same day, the next day after the Mart
changed. After every run each interface row equals the same Python computation over the raw Mart
rows as on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.spark import run_file, scratch_database, table_rows

from .test_daily_loads_postgres import MART_URL, Mart, map_and_generate, mart  # noqa: F401
from .test_retailer_mart_postgres import _run

pytestmark = [pytest.mark.postgres, pytest.mark.spark, pytest.mark.django_db]

MART_TABLES = [("crm", "customer"), ("crm", "customer_version"), ("mkt", "orders")]


def _spark_type(column_type: sa.types.TypeEngine):
    """The Spark type of a Mart column (PostgreSQL's `timestamp` has no zone: TIMESTAMP_NTZ)."""
    from pyspark.sql import types

    if isinstance(column_type, sa.Integer):
        return types.IntegerType()
    if isinstance(column_type, sa.Numeric):
        return types.DecimalType(column_type.precision or 38, column_type.scale or 10)
    if isinstance(column_type, sa.DateTime):
        return types.TimestampNTZType()
    if isinstance(column_type, sa.Date):
        return types.DateType()
    return types.StringType()


def copy_mart(spark) -> None:
    """The Mart's tables, as they are now, into Spark databases named like its schemas."""
    from pyspark.sql import types

    engine = sa.create_engine(MART_URL)
    try:
        inspector = sa.inspect(engine)
        with engine.connect() as conn:
            for schema, name in MART_TABLES:
                spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
                columns = inspector.get_columns(name, schema=schema)
                struct = types.StructType(
                    [types.StructField(c["name"], _spark_type(c["type"])) for c in columns]
                )
                rows = [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {schema}.{name}"))]
                frame = spark.createDataFrame(rows, struct)
                frame.write.mode("overwrite").saveAsTable(f"{schema}.{name}")
    finally:
        engine.dispose()


@pytest.fixture
def spark_mart(spark, mart) -> Iterator[Mart]:  # noqa: F811 — the PostgreSQL Mart fixture
    copy_mart(spark)
    yield mart
    for schema in {s for s, _ in MART_TABLES}:
        spark.sql(f"DROP DATABASE IF EXISTS {schema} CASCADE")


def run_as_shipped(spark, etl) -> None:
    for path in sorted((etl / "sql").glob("*.sql")):
        run_file(spark, path)


def table(spark, name: str, key: str) -> dict:
    rows = table_rows(spark, name)
    return {row[key]: {k: v for k, v in row.items() if k != key} for row in rows}


def assert_interface_equals(spark, expected: Mart) -> None:
    assert table(spark, "if_customer", "customer_id") == expected.customer_rows()
    assert table(spark, "if_order_summary", "customer_id") == expected.order_summary_rows()
    assert table(spark, "if_order", "order_id") == expected.order_rows()


def test_the_shipped_spark_sql_loads_every_day_and_reruns_change_nothing(
    spark, spark_mart, engagement, ba, tmp_path
):
    # Given the retailer's mapping, generated for Spark
    map_and_generate(engagement, ba, tmp_path)
    slug = ["--engagement", engagement.slug, "--as", "ba"]
    _run("generate_etl", *slug, "--dialect", "spark", "-o", str(tmp_path / "spark"))
    etl = tmp_path / "spark"
    # (Spark tables cannot delete: the merges are overwrites, so no purge file ships)
    assert sorted(p.name for p in (etl / "sql").glob("*.sql")) == [
        "00_create_interface.sql",
        "01_customer.sql",
        "02_order_summary.sql",
        "03_order.sql",
    ]

    with scratch_database(spark, "wb_daily"):
        # When the files run on the first day, then the interface equals the Python computation
        run_as_shipped(spark, etl)
        assert_interface_equals(spark, spark_mart)

        # When they run again the same day, then nothing changes
        before = {n: table_rows(spark, n) for n in ("if_customer", "if_order_summary", "if_order")}
        run_as_shipped(spark, etl)
        after = {n: table_rows(spark, n) for n in before}
        assert {n: sorted(map(repr, rows)) for n, rows in after.items()} == {
            n: sorted(map(repr, rows)) for n, rows in before.items()
        }

        # When the Mart changes overnight and the files run the next day
        spark_mart.next_day(MART_URL)
        copy_mart(spark)
        run_as_shipped(spark, etl)
        # Then the interface equals a fresh computation over the changed Mart
        assert_interface_equals(spark, spark_mart)
        customers = table(spark, "if_customer", "customer_id")
        assert "5" not in customers and customers["7"]["full_name"] == "Ada Lovelace"
