"""Cutover, "Validate first full run": `run_etl_test` against a production-like target writes a
reconciliation report — per entity the source rows after the filter against the target rows, what
the load inserted, updated and deleted, the entity's unit tests and timings. It is kept with the run,
shown on the run's page, downloadable as CSV and Markdown, and linked from the cutover checklist's
"First full run validated" item. Every figure is checked against counts taken independently: the
Mart file read in Python, the target counted with sqlite3."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from io import StringIO

import pytest
from django.core.management import call_command

from exports.models import TestRun
from exports.testrun.reconciliation import CSV_HEADER
from tests.factories import EngagementFactory, member
from workbench.choices import Role

from .expected import expected_rows

PAGE = "/e/acme-360/exports/etl"


def _run_etl_test(mart, target, out_dir) -> dict:
    out = StringIO()
    call_command(
        "run_etl_test",
        "--engagement", "acme-360", "--as", "etl", "--format", "json",
        "--source", f"sqlite:///{mart}", "--target", f"sqlite:///{target}",
        "-o", str(out_dir),
        stdout=out,
    )  # fmt: skip
    return json.loads(out.getvalue())


def _target_counts(target, tables) -> dict[str, int]:
    with sqlite3.connect(target) as db:
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.fixture
def first_full_run(demo_mapped, etl, tmp_path, demo_mart_file):
    """The demo's first full run into a production-like target, then the same load again."""
    target = tmp_path / "production_like.sqlite3"
    first = _run_etl_test(demo_mart_file, target, tmp_path / "first")
    return {"first": first, "target": target, "out": tmp_path / "first"}


def test_the_report_equals_independent_counts(first_full_run, demo_mart_file, tmp_path):
    report = first_full_run["first"]["reconciliation"]
    expected = expected_rows(demo_mart_file, unicode_case=False)
    tables = {e["entity"]: e["table"] for e in report["entities"]}
    counted = _target_counts(first_full_run["target"], tables.values())

    # Then each loaded entity's source rows are the Mart's rows after the filter (Python), its
    # target rows what the table holds (sqlite3), and a first load inserted every one of them
    assert set(tables) == {"customer", "campaign", "customer_address", "email_event"}
    for row in report["entities"]:
        source = len(expected[row["entity"]])
        assert (row["source_rows"], row["target_rows"]) == (source, counted[row["table"]])
        assert (row["inserted"], row["updated"], row["deleted"]) == (source, 0, 0)
        assert (row["difference"], row["tests_failed"], row["reconciled"]) == (0, 0, True)
        assert row["tests_passed"] > 0 and row["load_seconds"] >= 0
    assert report["reconciled"] is True
    assert report["skipped"] == {
        "subscription": "The required attribute plan_code has no rule and no default."
    }
    timings = report["timings"]
    assert timings["total_seconds"] == pytest.approx(
        timings["load_seconds"] + timings["checks_seconds"], abs=0.002
    )
    # And the run keeps it, the same as the command printed
    run = TestRun.objects.get(pk=first_full_run["first"]["run"])
    assert run.reconciliation == report

    # When the same day's load runs again
    again = _run_etl_test(demo_mart_file, first_full_run["target"], tmp_path / "again")
    # Then it changes nothing, and says so
    for row in again["reconciliation"]["entities"]:
        assert (row["inserted"], row["updated"], row["deleted"]) == (0, 0, 0), row["entity"]
        assert row["source_rows"] == row["target_rows"] == counted[row["table"]]


def test_the_next_days_counts_are_what_changed_in_the_mart(
    demo_mapped, etl, tmp_path, demo_mart_file
):
    # Given a first full run of a Mart of our own
    mart = tmp_path / "mart.sqlite3"
    shutil.copy(demo_mart_file, mart)
    target = tmp_path / "production_like.sqlite3"
    _run_etl_test(mart, target, tmp_path / "day1")
    # When, overnight, a customer changes their e-mail, a campaign is added and an address goes
    with sqlite3.connect(mart) as db:
        db.execute(
            "UPDATE crm_customer SET email = 'new.address@example.com' WHERE customer_id = 7"
        )
        db.execute(
            "INSERT INTO mkt_campaign (campaign_id, campaign_code, campaign_name, channel_code, "
            "start_date) VALUES (999, 'CMP-2026-999', 'Winter Sale 2026', 'EML', '2026-12-01')"
        )
        db.execute("DELETE FROM crm_customer_address WHERE address_id = 3")
    report = _run_etl_test(mart, target, tmp_path / "day2")["reconciliation"]
    # Then the report counts exactly those changes, and the target again equals the source
    changes = {r["entity"]: (r["inserted"], r["updated"], r["deleted"]) for r in report["entities"]}
    assert changes == {
        "customer": (0, 1, 0),
        "campaign": (1, 0, 0),
        "customer_address": (0, 0, 1),
        "email_event": (0, 0, 0),
    }
    expected = expected_rows(mart, unicode_case=False)
    for row in report["entities"]:
        assert row["source_rows"] == row["target_rows"] == len(expected[row["entity"]])
    assert report["reconciled"] is True


def test_the_report_is_written_as_csv_and_markdown_beside_the_package(first_full_run):
    run_id, out = first_full_run["first"]["run"], first_full_run["out"]
    report = first_full_run["first"]["reconciliation"]
    assert sorted(p.name for p in out.iterdir()) == [
        f"reconciliation_run_{run_id}.csv",
        f"reconciliation_run_{run_id}.md",
        f"unit_test_package_run_{run_id}.md",
        f"unit_test_package_run_{run_id}.xlsx",
    ]
    rows = list(csv.reader(io.StringIO((out / f"reconciliation_run_{run_id}.csv").read_text())))
    assert rows[0] == CSV_HEADER
    by_entity = {r[0]: dict(zip(CSV_HEADER, r, strict=True)) for r in rows[1:]}
    customer = next(e for e in report["entities"] if e["entity"] == "customer")
    assert by_entity["customer"]["Source rows"] == str(customer["source_rows"])
    assert by_entity["customer"]["Reconciled"] == "yes"
    markdown = (out / f"reconciliation_run_{run_id}.md").read_text()
    assert markdown.startswith(f"# Reconciliation of test run #{run_id} — Acme 360\n")
    assert "- Reconciled: **yes**" in markdown
    assert f"| customer | if_customer | merge | {customer['source_rows']} |" in markdown
    assert "- Not loaded: **subscription**" in markdown


def test_the_run_page_shows_it_and_the_checklist_links_it(client, first_full_run, etl, viewer):
    run_id = first_full_run["first"]["run"]
    report = first_full_run["first"]["reconciliation"]
    client.force_login(viewer)
    page = client.get(f"{PAGE}/runs/{run_id}/").content.decode()
    assert 'id="reconciliation"' in page
    for row in report["entities"]:
        assert f'<tr data-entity="{row["entity"]}" class="reconciled">' in page
    assert f'href="{PAGE}/runs/{run_id}/reconciliation.csv"' in page

    csv_file = client.get(f"{PAGE}/runs/{run_id}/reconciliation.csv")
    assert csv_file.status_code == 200
    assert csv_file["Content-Disposition"] == (
        f'attachment; filename="acme-360-reconciliation-run-{run_id}.csv"'
    )
    assert csv_file.content.decode().splitlines()[0] == ",".join(CSV_HEADER)
    markdown = client.get(f"{PAGE}/runs/{run_id}/reconciliation.md")
    assert markdown["Content-Type"] == "text/markdown; charset=utf-8"

    # The cutover checklist links the report from "First full run validated", and the ETL
    # developer's tick form offers it as the run's link
    client.force_login(etl)
    checklist = client.get("/e/acme-360/signoff/cutover/").content.decode()
    assert f'href="{PAGE}/runs/{run_id}/#reconciliation">Reconciliation report of test run' in (
        checklist
    )
    assert f'value="http://testserver{PAGE}/runs/{run_id}/#reconciliation"' in checklist


def test_the_checklist_says_when_there_is_no_report_yet(client, demo_mapped, etl):
    client.force_login(etl)
    checklist = client.get("/e/acme-360/signoff/cutover/").content.decode()
    assert "No reconciliation report yet" in checklist


def test_who_may_download_the_report(client, first_full_run, outsider, viewer):
    run_id = first_full_run["first"]["run"]
    url = f"{PAGE}/runs/{run_id}/reconciliation.csv"
    # anonymous: to the login page
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    # a user of another engagement: nothing to see
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    # a member of another engagement asking for this run under their own engagement: not found
    other = EngagementFactory(slug="globex")
    client.force_login(member(other, Role.ETL_DEVELOPER, "globex_etl"))
    assert client.get(f"/e/globex/exports/etl/runs/{run_id}/reconciliation.csv").status_code == 404
    assert client.get(f"/e/globex/exports/etl/runs/{run_id}/").status_code == 404
    # a member, any role, reads it; a format the report is not offered in is not found
    client.force_login(viewer)
    assert client.get(url).status_code == 200
    assert client.get(f"{PAGE}/runs/{run_id}/reconciliation.pdf").status_code == 404


def test_a_run_that_stopped_has_no_report(client, demo_mapped, etl, tmp_path, viewer):
    from exports.services.testrun import etl_run_execute
    from exports.testrun.engine import RunOptions
    from workbench.jobs import JobError

    with pytest.raises(JobError):
        etl_run_execute(
            engagement=demo_mapped,
            options=RunOptions(
                source_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
                target_url=f"sqlite:///{tmp_path / 't.sqlite3'}",
            ),
            acting_user=etl,
        )
    run = TestRun.objects.get()
    assert (run.status, run.reconciliation) == ("error", {})
    client.force_login(viewer)
    assert client.get(f"{PAGE}/runs/{run.pk}/reconciliation.md").status_code == 404
    assert 'id="reconciliation"' not in client.get(f"{PAGE}/runs/{run.pk}/").content.decode()
