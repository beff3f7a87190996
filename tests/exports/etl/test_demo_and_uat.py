"""The demo story's test run (load_demo as the ETL Developer, once: every unit test passes) and
raising a failing unit test as UAT feedback: the BA or the Client SME may, through the sign-off
app's service; the ETL Developer and the viewer may not; outsiders see nothing.

The demo's mapping is clean, so the failing tests come from a first draft of two rules (the phone
copied as typed, the country code without upper-casing), the way a BA's mapping looks before its
first test run: values that break the contract's patterns but no constraint of the tables."""

from __future__ import annotations

import pytest

from exports.models import TestRun, UnitTestResult
from exports.services import testrun as services
from exports.testrun.demo import demo_target_path
from exports.testrun.engine import RunOptions
from mappings.models import AttributeMapping
from mappings.services import mapping as mapping_services
from signoff.choices import AuditKind, UatClassification
from signoff.models import AuditEvent, UatItem
from workbench.demo import DEMO_SLUG, load_demo

PAGE = "/e/acme-360/exports/etl/"


FIRST_DRAFT = {
    ("customer", "phone"): {"source_columns": "c.phone", "transformation": ""},
    ("customer_address", "country_code"): {
        "source_columns": "ad.country_code",
        "transformation": "",
    },
}


@pytest.fixture
def first_draft(demo_mapped, ba):
    for (entity, attribute), data in FIRST_DRAFT.items():
        mapping_services.attribute_mapping_update(
            attribute_mapping=AttributeMapping.objects.get(
                entity_mapping__engagement=demo_mapped,
                entity_mapping__entity_name=entity,
                attribute_name=attribute,
            ),
            data=data,
            acting_user=ba,
        )
    return demo_mapped


@pytest.fixture
def run(first_draft, etl, tmp_path, demo_mart_file):
    run = services.etl_run_execute(
        engagement=first_draft,
        options=RunOptions(
            source_url=f"sqlite:///{demo_mart_file}", target_url=f"sqlite:///{tmp_path}/t.sqlite3"
        ),
        acting_user=etl,
    )
    assert sorted(run.results.filter(passed=False).values_list("name", flat=True)) == [
        "customer.phone: pattern",
        "customer_address.country_code: pattern",
    ]
    return run


@pytest.fixture
def phone(run):
    return run.results.get(name="customer.phone: pattern")


@pytest.mark.django_db
def test_load_demo_runs_the_unit_tests_once_as_the_etl_developer(settings, tmp_path, client):
    settings.VAR_DIR = tmp_path
    engagement = load_demo()
    run = TestRun.objects.get(engagement=engagement)
    assert run.started_by.username == "etl"
    assert run.target_url == f"sqlite:///{demo_target_path()}"
    assert demo_target_path().parent == tmp_path and demo_target_path().exists()
    # the demo's own mapping passes every one of its own checks on the Mart's messy data
    failing = UnitTestResult.objects.filter(run=run, passed=False)
    assert [(r.name, r.actual, r.sample_rows[:2]) for r in failing] == []
    assert (run.status, run.tests_failed, run.tests_total > 0) == ("passed", 0, True)
    history = run.history.count()

    load_demo()

    assert TestRun.objects.filter(engagement=engagement).count() == 1
    assert run.history.count() == history
    # the generated ETL and the run are on the ETL pages with no further step
    client.force_login(run.started_by)
    page = client.get(f"/e/{DEMO_SLUG}/exports/etl/").content.decode()
    assert f'data-run="{run.pk}"' in page and "all pass" in page
    assert client.get(f"/e/{DEMO_SLUG}/exports/etl/download/sqlite.zip").status_code == 200


def test_the_ba_raises_a_failing_test_as_uat_feedback(client, run, phone, ba):
    client.force_login(ba)
    url = f"{PAGE}runs/{run.pk}/results/{phone.pk}/uat/"
    page = client.get(f"{PAGE}runs/{run.pk}/").content.decode()
    assert f'action="{url}"' in page  # the button, on the failing test

    response = client.post(url, {"classification": "mapping_change"})

    assert response.status_code == 302
    assert response["Location"] == "/e/acme-360/signoff/uat/"
    item = UatItem.objects.get()
    assert (item.entity_name, item.attribute_name, item.test_result_ref) == (
        "customer",
        "phone",
        str(phone.pk),
    )
    assert (item.classification, item.raised_by, item.state) == ("mapping_change", ba, "open")
    assert item.description.startswith(
        f"Unit test failed: customer.phone: pattern (test run #{run.pk}, Type, length and precision)."
    )
    assert f"Test: {PAGE}runs/{run.pk}/#result-{phone.pk}" in item.description
    assert f"Mapping: /e/acme-360/mapping/attributes/{phone.attribute_mapping_id}/" in (
        item.description
    )
    assert item.history.get().history_user == ba
    assert AuditEvent.objects.filter(kind=AuditKind.UAT_RAISED, actor=ba).count() == 1
    followed = client.get(response["Location"]).content.decode()
    assert f"Raised UAT item #{item.pk} on customer.phone (Mapping change) from test" in followed

    # the run page now links the item instead of offering the button again
    page = client.get(f"{PAGE}runs/{run.pk}/").content.decode()
    assert f"Raised as UAT item #{item.pk}" in page and f'action="{url}"' not in page
    again = client.post(url, {"classification": "etl_fix"}, follow=True).content.decode()
    assert f"Test #{phone.pk} is already raised as UAT item #{item.pk}." in again
    assert UatItem.objects.count() == 1


def test_the_service_suggests_the_classification_from_the_routing(run, etl, sme):
    country = run.results.get(name="customer_address.country_code: pattern")
    services.unit_test_route(
        result=country, route="implementation", comments="Upper-case in the load", acting_user=etl
    )
    item = services.test_result_raise_uat(result=country, acting_user=sme)
    assert item.classification == UatClassification.ETL_FIX
    assert item.target == "customer_address.country_code"
    assert item.description.endswith("ETL note: Upper-case in the load")
    passing = run.results.filter(passed=True).first()
    with pytest.raises(Exception) as refused:
        services.test_result_raise_uat(result=passing, acting_user=sme)
    assert refused.value.messages == ["Only a failing test is raised as UAT feedback."]


def test_who_may_not_raise_uat_feedback(client, run, phone, etl, viewer, lead, outsider):
    url = f"{PAGE}runs/{run.pk}/results/{phone.pk}/uat/"
    for user in (etl, viewer, lead):
        client.force_login(user)
        assert client.post(url, {"classification": "etl_fix"}).status_code == 403, user
        assert f'action="{url}"' not in client.get(f"{PAGE}runs/{run.pk}/").content.decode()
    client.force_login(outsider)
    assert client.post(url, {"classification": "etl_fix"}).status_code == 404
    assert UatItem.objects.count() == 0


def test_a_missing_classification_is_refused_on_the_page(client, run, phone, ba):
    client.force_login(ba)
    url = f"{PAGE}runs/{run.pk}/results/{phone.pk}/uat/"
    response = client.post(url, {"classification": "later"}, follow=True)
    assert "Choose Mapping change or ETL fix." in response.content.decode()
    assert UatItem.objects.count() == 0
