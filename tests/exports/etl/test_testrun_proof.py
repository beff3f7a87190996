"""Stories of a test run that proves the load independently of the generator: the field values are
the BA's rules as written, evaluated in the Mart, compared with the target tables; a value too long
for the contract is reported before any cast could cut it."""

from __future__ import annotations

import datetime as dt
import decimal
import shutil
import sqlite3

import pytest
import sqlalchemy as sa
from sqlglot import exp

from exports.etl.plan import build_plan
from exports.testrun import engine

from .pgmart import PG_URL, copy_mart, drop_schema, unique_schema

LONG_NAME = "Summer Launch " + "x" * 200  # 214 characters; the contract allows 200


def _dishonest(plan) -> None:
    """A generator bug: customer.first_name is loaded with UPPER where the BA wrote TRIM."""
    column = plan.entity("customer").column("first_name")
    for trim in list(column.value.find_all(exp.Trim)):
        trim.replace(exp.Upper(this=trim.this.copy()))


def _options(source: str, target: str, **kwargs) -> engine.RunOptions:
    return engine.RunOptions(source_url=source, target_url=target, **kwargs)


def test_a_generator_that_rewrites_a_rule_fails_the_field_value_test(
    mapped, tmp_path, demo_mart_file
):
    # Given an honest run of the mapped engagement: every unit test passes
    honest = engine.run(
        build_plan(engagement=mapped),
        _options(f"sqlite:///{demo_mart_file}", f"sqlite:///{tmp_path / 'honest.sqlite3'}"),
    )
    assert honest.failed == []
    # When the generated load computes first_name with UPPER instead of the BA's TRIM
    plan = build_plan(engagement=mapped)
    _dishonest(plan)
    outcome = engine.run(
        plan,
        _options(f"sqlite:///{demo_mart_file}", f"sqlite:///{tmp_path / 'bug.sqlite3'}"),
    )
    # Then only the field-value test of first_name fails, with rows (key, expected, loaded)
    failed = outcome.failed
    assert [r.check.name for r in failed] == ["customer.first_name: field values"]
    samples = failed[0].samples
    assert samples and set(samples[0]) == {"customer_id", "expected", "loaded"}
    # (UPPER keeps the spaces TRIM removes; SQLite upper-cases ASCII only)
    assert all(s["loaded"].strip().lower() == s["expected"].lower() for s in samples), samples
    assert all(s["loaded"] != s["expected"] for s in samples)


def test_the_field_value_sample_is_the_first_keys_and_bounded(mapped, tmp_path, demo_mart_file):
    # Given a run with a sample of 10 keys per entity
    outcome = engine.run(
        build_plan(engagement=mapped),
        _options(
            f"sqlite:///{demo_mart_file}",
            f"sqlite:///{tmp_path / 't.sqlite3'}",
            sample_size=10,
        ),
    )
    # Then each field-value test compared exactly 10 rows (every demo entity has more)
    field_values = [r for r in outcome.results if r.check.name.endswith("field values")]
    assert field_values and {r.actual for r in field_values} == {"10 equal, 0 differ"}


def test_a_value_too_long_is_reported_from_the_mart_on_sqlite(mapped, tmp_path, demo_mart_file):
    # Given a Mart whose campaign 1 has a name longer than the contract's 200 characters
    mart = tmp_path / "mart.sqlite3"
    shutil.copy(demo_mart_file, mart)
    db = sqlite3.connect(mart)
    db.execute("UPDATE mkt_campaign SET campaign_name = ? WHERE campaign_id = 1", (LONG_NAME,))
    db.commit()
    db.close()
    # When the test run loads it into SQLite
    outcome = engine.run(
        build_plan(engagement=mapped),
        _options(f"sqlite:///{mart}", f"sqlite:///{tmp_path / 't.sqlite3'}"),
    )
    # Then the Mart-side length test names the row and the full value
    by_name = {r.check.name: r for r in outcome.failed}
    fits = by_name["campaign.name: fits before the cast"]
    assert fits.actual == "1 rows"
    assert fits.samples == [{"campaign_id": "1", "name": LONG_NAME}]


@pytest.mark.postgres
def test_a_value_too_long_is_reported_though_postgresql_cuts_it(
    require_postgres, mapped, demo_mart_file
):
    # Given the demo Mart on PostgreSQL with campaign 1's name longer than 200 characters
    pg = sa.create_engine(PG_URL)
    mart, interface = unique_schema("proof_mart"), unique_schema("proof_if")
    try:
        copy_mart(demo_mart_file, pg, mart)
        with pg.begin() as conn:
            conn.execute(
                sa.text(
                    f'UPDATE "{mart}".mkt_campaign SET campaign_name = :n WHERE campaign_id = 1'
                ),
                {"n": LONG_NAME},
            )
        # When the run loads it inside PostgreSQL, whose CAST to VARCHAR(200) truncates silently
        outcome = engine.run(
            build_plan(engagement=mapped),
            _options(PG_URL, PG_URL, source_schema=mart, target_schema=interface),
        )
        # Then the target holds the cut value, yet the loss is reported: by the Mart-side length
        # test before the cast, and by the field-value test comparing the rule with the target
        with pg.connect() as conn:
            loaded = conn.execute(
                sa.text(f"SELECT name FROM \"{interface}\".if_campaign WHERE campaign_id = '1'")
            ).scalar()
        assert loaded == LONG_NAME[:200]
        by_name = {r.check.name: r for r in outcome.failed}
        assert set(by_name) == {
            "campaign.name: fits before the cast",
            "campaign.name: field values",
        }
        assert by_name["campaign.name: fits before the cast"].samples == [
            {"campaign_id": "1", "name": LONG_NAME}
        ]
        assert by_name["campaign.name: field values"].samples == [
            {"campaign_id": "1", "expected": LONG_NAME, "loaded": LONG_NAME[:200]}
        ]
    finally:
        drop_schema(pg, mart)
        drop_schema(pg, interface)
        pg.dispose()


def test_values_compare_by_type_but_trailing_spaces_count(mapped):
    """The same value as two engines return it compares equal; a trailing space does not."""
    plan = build_plan(engagement=mapped)
    customer, campaign = plan.entity("customer"), plan.entity("campaign")
    same = engine.normalise
    # Dates: a date, a datetime at midnight and ISO text
    start = campaign.column("start_date")
    assert same(start, dt.date(2024, 6, 1)) == same(start, "2024-06-01")
    assert same(start, dt.datetime(2024, 6, 1)) == same(start, "2024-06-01")
    # Decimals: 1.5 from SQLite and Decimal('1.50') from PostgreSQL; a cent apart differs
    budget = campaign.column("budget_amount")
    assert same(budget, 1.5) == same(budget, decimal.Decimal("1.50"))
    assert same(budget, "1.51") != same(budget, decimal.Decimal("1.50"))
    # Booleans: 0/1 from SQLite, true/false from PostgreSQL or text
    opt_in = customer.column("email_opt_in")
    assert same(opt_in, 1) == same(opt_in, True) == same(opt_in, "true")
    assert same(opt_in, 0) == same(opt_in, False) == same(opt_in, "false")
    # Text: a trailing space is a different value (CHAR padding must not hide a rule's bug)
    name = customer.column("first_name")
    assert same(name, "Noah ") != same(name, "Noah")


def test_a_number_beyond_its_precision_is_reported_from_the_mart(mapped, tmp_path, demo_mart_file):
    # Given a Mart whose campaign 2 has a budget of 10^12: DECIMAL(14, 2) holds 12 integer digits
    mart = tmp_path / "mart.sqlite3"
    shutil.copy(demo_mart_file, mart)
    db = sqlite3.connect(mart)
    db.execute("UPDATE mkt_campaign SET budget_gbp = 1000000000000 WHERE campaign_id = 2")
    db.commit()
    db.close()
    # When the test run loads it
    outcome = engine.run(
        build_plan(engagement=mapped),
        _options(f"sqlite:///{mart}", f"sqlite:///{tmp_path / 't.sqlite3'}"),
    )
    # Then the Mart-side precision test names the row and the value the rule yields
    by_name = {r.check.name: r for r in outcome.failed}
    fits = by_name["campaign.budget_amount: fits before the cast"]
    assert "DECIMAL(14, 2)" in fits.check.description
    assert fits.samples == [{"campaign_id": "2", "budget_amount": 1000000000000}]
