"""generate_etl from the command line: the artifacts, and refusals as one-line non-zero exits."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def test_generate_etl_writes_the_artifacts(mapped, etl, tmp_path):
    out = StringIO()
    call_command(
        "generate_etl", "--engagement", "acme-360", "--as", "etl", "--dialect", "snowflake",
        "-o", str(tmp_path), stdout=out,
    )  # fmt: skip
    # 38 files: five loads and four purges (the events are appended, never purged), two Airflow
    # DAGs (the daily one and the hourly e-mail events), the dbt project with its own generic
    # tests (foreign_key among them)
    assert out.getvalue() == (
        f"wrote 38 files to {tmp_path} (snowflake; load order: customer, campaign, "
        "customer_address, subscription, email_event)\n"
    )
    events = (tmp_path / "sql" / "05_email_event.sql").read_text()
    assert events.splitlines()[1] == (
        "-- email_event: append by watermark event_ts (key event_id); 0 * * * *. Running it twice "
        "changes nothing."
    )
    assert "-- step: insert\nINSERT INTO if_email_event" in events


def test_generate_etl_names_what_it_left_out_and_exits_1(demo_mapped, etl, tmp_path):
    err = StringIO()
    with pytest.raises(CommandError) as incomplete:
        call_command(
            "generate_etl", "--engagement", "acme-360", "--as", "etl", "--dialect", "sqlite",
            "-o", str(tmp_path), stdout=StringIO(), stderr=err,
        )  # fmt: skip
    assert str(incomplete.value) == "Incomplete (sqlite): not generated: subscription."
    assert err.getvalue() == (
        "not generated: subscription: The required attribute plan_code has no rule and no "
        "default.\n"
    )


def test_generate_etl_refusals(engagement, etl, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command(
            "generate_etl", "--engagement", "acme-360", "--as", "etl", "--dialect", "sqlite",
            "-o", str(tmp_path),
        )  # fmt: skip
    assert (
        str(refused.value) == "There is no published contract: publish the Interface Layer first."
    )
    with pytest.raises(CommandError) as refused:
        call_command(
            "generate_etl", "--engagement", "nope", "--dialect", "sqlite", "-o", str(tmp_path)
        )
    assert str(refused.value) == "No engagement with slug 'nope'."
    with pytest.raises(CommandError) as refused:
        call_command(
            "generate_etl", "--engagement", "acme-360", "--dialect", "oracle", "-o", str(tmp_path)
        )
    assert "invalid choice: 'oracle'" in str(refused.value)


def test_run_etl_test_refuses_an_unreachable_source(mapped, etl, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command(
            "run_etl_test", "--engagement", "acme-360", "--as", "etl",
            "--source", "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "--target", f"sqlite:///{tmp_path}/t.db", stdout=StringIO(),
        )  # fmt: skip
    assert str(refused.value).startswith("Could not connect to the source database: ")
