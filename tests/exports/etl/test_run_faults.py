"""A failed test run's page tells what loaded, which checks ran and, for each failure, the rule
at fault — linked to its row in the mapping grid — whether the check names the attribute or only
the database's error does."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from exports.models import TestRun
from exports.selectors.etl import column_named_by
from exports.services.testrun import etl_run_execute, etl_run_start
from exports.testrun.engine import RunOptions
from mappings.models import AttributeMapping

PAGE = "/e/acme-360/exports/etl/runs"


def _grid_row(entity: str, attribute: str) -> str:
    mapping = AttributeMapping.objects.get(
        entity_mapping__entity_name=entity, attribute_name=attribute
    )
    return f"/e/acme-360/mapping/entities/{mapping.entity_mapping_id}/#row-{mapping.pk}"


@pytest.fixture
def not_null_run(mapped, etl, tmp_path, demo_mart_file):
    """A run where one customer's creation time is no timestamp: the customer load fails on
    NOT NULL (SQLite names the column), and so do the loads of its children (foreign keys)."""
    mart = tmp_path / "mart.sqlite3"
    shutil.copy(demo_mart_file, mart)
    db = sqlite3.connect(mart)
    db.execute("UPDATE crm_customer SET created_at = 'yesterday' WHERE customer_id = 1100")
    db.commit()
    db.close()
    return etl_run_execute(
        engagement=mapped,
        options=RunOptions(
            source_url=f"sqlite:///{mart}", target_url=f"sqlite:///{tmp_path}/t.sqlite3"
        ),
        acting_user=etl,
    )


def test_a_failed_load_names_the_attribute_the_database_named(
    client, not_null_run, viewer, django_assert_max_num_queries
):
    # Given a run whose customer load broke NOT NULL on created_at
    load = not_null_run.results.get(name="customer: load")
    assert load.actual.endswith("NOT NULL constraint failed: if_customer.created_at")
    assert load.attribute_mapping_id is None  # the load test is about the whole entity
    # When a viewer opens the run
    client.force_login(viewer)
    with django_assert_max_num_queries(12):
        response = client.get(f"{PAGE}/{not_null_run.pk}/")
    page = response.content.decode()
    # Then the page says what happened in words
    assert not_null_run.outcome in page
    assert f"{not_null_run.tests_total} tests ran" in page
    # And what loaded: customer failed with the engine's message, the others loaded their rows
    loads = page.split('id="loads"')[1].split("</section>")[0]
    customer = loads.split('data-entity="customer"')[1].split("</tr>")[0]
    assert "Failed" in customer
    assert "NOT NULL constraint failed: if_customer.created_at" in customer
    campaign = loads.split('data-entity="campaign"')[1].split("</tr>")[0]
    assert f"Loaded</span> {not_null_run.entity_rows['campaign']} rows" in campaign
    # And the rule at fault is customer.created_at, linked to its row in the grid
    assert f'<a href="{_grid_row("customer", "created_at")}" class="fault-link">' in customer
    assert "customer.created_at" in customer
    assert "the column the database named when the load failed" in customer
    # And the failing load test itself leads there too
    detail = page.split(f'id="result-{load.pk}"')[1].split('class="fail-detail"')[1]
    detail = detail.split("</td></tr>")[0]
    assert f'href="{_grid_row("customer", "created_at")}"' in detail


def test_a_load_the_database_does_not_explain_points_at_its_failing_check(
    client, first_draft, etl, viewer, tmp_path, demo_mart_file
):
    # Given the first draft, whose address load fails on a foreign key SQLite does not name
    run = etl_run_execute(
        engagement=first_draft,
        options=RunOptions(
            source_url=f"sqlite:///{demo_mart_file}", target_url=f"sqlite:///{tmp_path}/t.sqlite3"
        ),
        acting_user=etl,
    )
    load = run.results.get(name="customer_address: load")
    assert load.actual.endswith("FOREIGN KEY constraint failed")
    client.force_login(viewer)
    page = client.get(f"{PAGE}/{run.pk}/").content.decode()
    # Then the rule at fault is the attribute whose foreign-key check failed
    addresses = page.split('id="loads"')[1].split('data-entity="customer_address"')[1]
    addresses = addresses.split("</tr>")[0]
    assert f'href="{_grid_row("customer_address", "customer_id")}"' in addresses
    assert "foreign key to customer" in addresses
    # And the UNIQUE failure of campaigns names campaign_code from the engine's message
    campaign = page.split('id="loads"')[1].split('data-entity="campaign"')[1].split("</tr>")[0]
    assert f'href="{_grid_row("campaign", "campaign_code")}"' in campaign
    # And the entity the plan could not load says why
    subscription = page.split('data-entity="subscription"')[1].split("</tr>")[0]
    assert "The required attribute plan_code has no rule and no default." in subscription


@pytest.mark.parametrize(
    ("message", "column"),
    [
        ("sql/01_customer.sql (customer) failed and was rolled back: NOT NULL constraint failed: "
         "if_customer.created_at", "created_at"),
        ("UNIQUE constraint failed: if_campaign.campaign_code", "campaign_code"),
        ("Constraint Error: NOT NULL constraint failed: if_customer.created_at", "created_at"),
        ('null value in column "created_at" of relation "if_customer" violates not-null '
         "constraint", "created_at"),
        ("(1048, \"Column 'created_at' cannot be null\")", "created_at"),
        ("FOREIGN KEY constraint failed", ""),
        ("disk I/O error", ""),
    ],
)  # fmt: skip
def test_the_column_an_engine_error_names(message, column):
    assert column_named_by(message) == column


def test_outsiders_and_anonymous_users_do_not_see_a_run(client, not_null_run, outsider):
    url = f"{PAGE}/{not_null_run.pk}/"
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_the_job_of_a_failed_run_says_what_failed_and_leads_to_the_failing_tests(
    client, first_draft, cataloged, etl, tmp_path, django_capture_on_commit_callbacks
):
    # Given the ETL developer ran the first draft as a job
    with django_capture_on_commit_callbacks(execute=True):
        job = etl_run_start(
            engagement=first_draft,
            source_system=cataloged,
            target_url=f"sqlite:///{tmp_path}/job.sqlite3",
            acting_user=etl,
        )
    run = TestRun.objects.get(job=job)
    # When the job's page is opened
    client.force_login(etl)
    page = client.get(f"/e/acme-360/jobs/{job.pk}/").content.decode()
    # Then it is named in words, says what happened and leads to the failing tests
    assert "<h1>ETL test run" in page
    assert (
        f"Loaded {run.rows_loaded:,} rows into 1 entity; "
        f"{run.tests_total} tests ran: {run.tests_total - run.tests_failed} passed, 8 failed."
    ) in page
    assert f'<a href="{PAGE}/{run.pk}/" class="next-step-link">See the failing tests</a>' in page
    assert "exports.test_run" not in page and "&#x27;summary&#x27;" not in page


def test_the_job_of_a_stopped_run_leads_to_the_stopped_run(
    client, mapped, etl, demo_mart_file, django_capture_on_commit_callbacks
):
    # Given a run whose target is a SQLite database in memory (refused: the Mart is copied beside it)
    with django_capture_on_commit_callbacks(execute=True):
        job = etl_run_start(
            engagement=mapped,
            source_url=f"sqlite:///{demo_mart_file}",
            target_url="sqlite://",
            acting_user=etl,
        )
    job.refresh_from_db()
    client.force_login(etl)
    page = client.get(f"/e/acme-360/jobs/{job.pk}/").content.decode()
    assert job.state == "failed"
    assert job.error == "A SQLite target must be a file (the Mart is copied beside it)."
    assert f"It failed: {job.error}" in page
    run = TestRun.objects.get(job=job)
    assert f'<a href="{PAGE}/{run.pk}/" class="next-step-link">See the stopped run</a>' in page
