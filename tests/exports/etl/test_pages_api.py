"""The ETL pages and API: the overview, starting a run (a Job with progress), a run's results with
failing samples and mapping links, routing, the package downloads; outsiders get 404, members
without the right 403; pages keep a fixed number of queries."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from exports.models import TestRun, UnitTestResult
from exports.services.testrun import etl_run_execute
from exports.testrun.choices import FailureRoute, RunStatus
from exports.testrun.engine import RunOptions
from workbench.choices import JobState
from workbench.models import Job

BASE = "/api/v1/engagements/acme-360/etl/runs"
PAGE = "/e/acme-360/exports/etl/"


@pytest.fixture
def run(first_draft, etl, tmp_path, demo_mart_file):
    """A finished run of the demo mapping's first draft: most tests pass; the orphans and the
    phones not in E.164 fail."""
    return etl_run_execute(
        engagement=first_draft,
        options=RunOptions(
            source_url=f"sqlite:///{demo_mart_file}", target_url=f"sqlite:///{tmp_path}/t.sqlite3"
        ),
        acting_user=etl,
    )


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_overview_shows_the_load_sequence_and_run_history(client, run, viewer):
    client.force_login(viewer)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Load sequence" in page
    assert 'data-entity="subscription"' in page
    assert "The required attribute plan_code has no rule and no default." in page
    assert f'data-run="{run.pk}"' in page
    assert f"{run.tests_failed} failed" in page
    assert "Start test run" not in page  # a viewer does not run ETL


def test_the_etl_developer_starts_a_run_and_follows_its_job(
    client, demo_mapped, etl, cataloged, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(etl)
    page = client.get(PAGE).content.decode()
    assert "Start test run" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            PAGE,
            {"source_system": cataloged.pk, "target_url": f"sqlite:///{tmp_path}/ui.sqlite3"},
        )
    job = Job.objects.get(kind="exports.test_run")
    job.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/e/acme-360/jobs/{job.pk}/"
    assert job.state == JobState.SUCCEEDED, job.error
    run = TestRun.objects.get()
    assert job.result["run"] == run.pk
    assert job.result["url"] == f"/e/acme-360/exports/etl/runs/{run.pk}/"
    assert run.job == job
    assert job.params["source_url"] == ""  # the source's password never travels in params


def test_a_bad_target_url_is_shown_on_the_form(client, demo_mapped, etl):
    client.force_login(etl)
    response = client.post(PAGE, {"source_url": "sqlite:///x.db", "target_url": "nonsense"})
    assert response.status_code == 400
    assert "Enter a SQLAlchemy URL, e.g. postgresql://user@host/db." in response.content.decode()
    response = client.post(
        PAGE, {"source_url": "sqlite:///x.db", "target_url": "postgresql://u:secret@h/db"}
    )
    assert (
        "Leave the password out of the URL; give it to the worker&#x27;s environment."
        in response.content.decode()
    )
    assert not Job.objects.exists()


def test_the_run_page_shows_failures_with_samples_and_mapping_links(
    client, run, viewer, django_assert_max_num_queries
):
    client.force_login(viewer)
    assert run.results.count() > 100
    with django_assert_max_num_queries(12):
        response = client.get(f"{PAGE}runs/{run.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    orphan = run.results.get(name="customer_address.customer_id: foreign key to customer")
    assert f'id="result-{orphan.pk}" class="fail"' in page
    entity = orphan.attribute_mapping.entity_mapping_id
    grid_row = f"/e/acme-360/mapping/entities/{entity}/#row-{orphan.attribute_mapping_id}"
    assert f'href="{grid_row}"' in page
    assert "sample failing row" in page
    failing_only = client.get(f"{PAGE}runs/{run.pk}/?failing=1").content.decode()
    assert failing_only.count('class="fail"') == run.tests_failed
    # Each test shows its test-case ID, the same whether the passing tests are listed or not
    case_id = re.search(
        rf'id="result-{orphan.pk}" class="fail">\s*<td class="case-id">(UT-[\w-]+)</td>', page
    ).group(1)
    assert case_id.startswith("UT-customer_address-")
    assert f'<td class="case-id">{case_id}</td>' in failing_only


def test_routing_a_failure_from_the_page(client, run, etl, viewer):
    orphan = run.results.get(name="email_event.campaign_id: foreign key to campaign")
    url = f"{PAGE}runs/{run.pk}/results/{orphan.pk}/route/"
    client.force_login(viewer)
    assert client.post(url, {"route": "implementation"}).status_code == 403
    client.force_login(etl)
    response = client.post(url, {"route": "implementation", "comments": "Load an UNKNOWN campaign"})
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}runs/{run.pk}/#result-{orphan.pk}"
    orphan.refresh_from_db()
    assert (orphan.route, orphan.comments) == (
        FailureRoute.IMPLEMENTATION,
        "Load an UNKNOWN campaign",
    )


def test_downloads_of_the_package_and_the_artifacts(client, run, viewer):
    client.force_login(viewer)
    xlsx = client.get(f"{PAGE}runs/{run.pk}/package.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book["Test Cases"].max_row == run.results.count() + 1
    markdown = client.get(f"{PAGE}runs/{run.pk}/package.md")
    assert markdown.content.decode().startswith("# Unit Test Package — Acme 360")
    assert client.get(f"{PAGE}runs/{run.pk}/package.pdf").status_code == 404
    archive = client.get(f"{PAGE}download/duckdb.zip")
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert "manifest.json" in names and "sql/01_customer.sql" in names


def test_outsiders_get_404_everywhere(client, run, outsider):
    client.force_login(outsider)
    for url in (
        PAGE,
        f"{PAGE}runs/{run.pk}/",
        f"{PAGE}runs/{run.pk}/package.xlsx",
        f"{PAGE}download/sqlite.zip",
    ):
        assert client.get(url).status_code == 404, url
    api = _api(outsider)
    assert api.get(f"{BASE}/").status_code == 404
    assert api.get(f"{BASE}/{run.pk}/").status_code == 404
    assert api.post(f"{BASE}/", {"target_url": "sqlite://"}, format="json").status_code == 404


def test_the_api_lists_runs_and_reads_one_with_its_results(run, viewer):
    api = _api(viewer)
    listing = api.get(f"{BASE}/").json()
    assert [r["id"] for r in listing["results"]] == [run.pk]
    assert listing["results"][0]["status"] == RunStatus.FAILED
    detail = api.get(f"{BASE}/{run.pk}/").json()
    assert len(detail["results"]) == run.tests_total
    failing = [r for r in detail["results"] if not r["passed"]]
    assert len(failing) == run.tests_failed
    # every failing check shows its rows at fault (a failed load says what failed instead)
    assert all(r["sample_rows"] for r in failing if r["test_type"] != "load")
    package = api.get(f"{BASE}/{run.pk}/package.md/")
    assert package.status_code == 200


def test_the_api_starts_a_run_and_routes_a_failure(
    run, etl, viewer, demo_mart_file, tmp_path, django_capture_on_commit_callbacks
):
    # A viewer may not start a run
    body = {"source_url": f"sqlite:///{demo_mart_file}", "target_url": f"sqlite:///{tmp_path}/a.db"}
    assert _api(viewer).post(f"{BASE}/", body, format="json").status_code == 403
    # The ETL developer may
    with django_capture_on_commit_callbacks(execute=True):
        response = _api(etl).post(f"{BASE}/", body, format="json")
    assert response.status_code == 202, response.content
    assert Job.objects.get(pk=response.json()["job"]).state == JobState.SUCCEEDED
    assert TestRun.objects.count() == 2
    # A bad URL is a 400 naming the field
    response = _api(etl).post(f"{BASE}/", {**body, "target_url": "nonsense"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "target_url": ["Enter a SQLAlchemy URL, e.g. postgresql://user@host/db."]
    }
    # Routing a failure
    orphan = UnitTestResult.objects.get(
        run=run, name="email_event.customer_id: foreign key to customer"
    )
    url = f"{BASE}/{run.pk}/results/{orphan.pk}/route/"
    assert _api(viewer).post(url, {"route": "mapping"}, format="json").status_code == 403
    response = _api(etl).post(
        url, {"route": "mapping", "comments": "Filter closed customers"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["route"] == "mapping"


def test_the_dashboard_phase_outputs(run, demo_mapped):
    from exports.phases import etl_design_state, generated_etl_state, unit_tests_state

    assert etl_design_state(demo_mapped).detail == "5 of 5 entities designed"
    assert (
        generated_etl_state(demo_mapped).detail == f"{run.rows_loaded} rows loaded in the last run"
    )
    assert (
        unit_tests_state(demo_mapped).detail == f"{run.tests_failed} of {run.tests_total} failing"
    )
