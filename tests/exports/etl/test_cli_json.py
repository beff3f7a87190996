"""Scripts drive the ETL steps with `--format json`: generate_etl lists the files it wrote and
run_etl_test reports every test; a SQLite source that does not exist is refused by name and no
empty file is left behind."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from exports.models import TestRun


def run_json(*args) -> dict:
    out = StringIO()
    call_command(*args, "--format", "json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def test_generate_etl_reports_its_files_as_json(mapped, etl, tmp_path):
    report = run_json(
        "generate_etl", "--engagement", "acme-360", "--as", "etl", "--dialect", "sqlite",
        "-o", str(tmp_path),
    )  # fmt: skip

    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert sorted(report["files"]) == written
    assert report["dialect"] == "sqlite"
    assert report["load_order"] == [
        "customer",
        "campaign",
        "customer_address",
        "subscription",
        "email_event",
    ]
    assert report["skipped"] == {}
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert report["content_hash"] == manifest["content_hash"]
    assert report["contract"] == manifest["contract"]


def test_run_etl_test_reports_each_test_and_the_packages_as_json(
    mapped, etl, tmp_path, demo_mart_file
):
    report = run_json(
        "run_etl_test", "--engagement", "acme-360", "--as", "etl",
        "--source", f"sqlite:///{demo_mart_file}", "--target", f"sqlite:///{tmp_path}/t.sqlite3",
        "-o", str(tmp_path / "package"),
    )  # fmt: skip

    run = TestRun.objects.get()
    assert report["run"] == run.pk
    assert report["passed"] is True
    assert report["tests_failed"] == 0
    assert report["tests_total"] == report["tests_passed"] == run.results.count() > 0
    assert len(report["results"]) == report["tests_total"]
    assert all(result["passed"] for result in report["results"])
    assert {r["entity"] for r in report["results"]} >= {"customer", "email_event"}
    assert report["results"][0]["id"] == f"UT-{report['results'][0]['entity']}-001"
    assert [Path(p).name for p in report["packages"]] == [
        f"unit_test_package_run_{run.pk}.xlsx",
        f"unit_test_package_run_{run.pk}.md",
        f"reconciliation_run_{run.pk}.csv",
        f"reconciliation_run_{run.pk}.md",
    ]
    assert all(Path(p).is_file() for p in report["packages"])
    assert report["reconciliation"] == run.reconciliation and run.reconciliation["reconciled"]


@pytest.mark.parametrize("inside_allowed_dir", [True, False])
def test_a_missing_sqlite_source_is_named_and_never_created(
    mapped, etl, tmp_path, inside_allowed_dir
):
    missing = tmp_path / "missing.db" if inside_allowed_dir else Path("/missing-cliwb-mart.db")

    with pytest.raises(CommandError) as refused:
        call_command(
            "run_etl_test", "--engagement", "acme-360", "--as", "etl",
            "--source", f"sqlite:///{missing}", "--target", f"sqlite:///{tmp_path}/t.sqlite3",
            stdout=StringIO(),
        )  # fmt: skip

    assert str(missing) in str(refused.value)
    assert not missing.exists()
    assert not TestRun.objects.exists()


def test_introspect_mart_refuses_a_missing_sqlite_file_by_name(engagement, ba, tmp_path):
    from catalog.models import SourceSystem

    missing = tmp_path / "nowhere" / "mart.db"

    with pytest.raises(CommandError) as refused:
        call_command(
            "introspect_mart", "--engagement", "acme-360", "--as", "ba",
            "--url", f"sqlite:///{missing}", stdout=StringIO(),
        )  # fmt: skip

    assert str(refused.value) == f"url: The SQLite file {missing} does not exist."
    assert not missing.exists()
    assert not missing.parent.exists()
    assert not SourceSystem.objects.exists()
