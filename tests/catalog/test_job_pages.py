"""The pages of introspection and profiling jobs say what happened in words, name the job and the
source it worked on, and lead on to the catalog; a failed job says why and leads back to the
sources. No raw result is shown."""

from __future__ import annotations

from django.urls import reverse

from catalog.services import sources as services
from workbench.choices import JobState
from workbench.models import Job


def _page(client, job) -> str:
    response = client.get(reverse("job-detail", args=[job.engagement.slug, job.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_introspection_job_says_what_it_found_and_leads_to_the_catalog(
    client, engagement, ba, source, django_capture_on_commit_callbacks
):
    # Given the BA introspected the Mart as a job
    with django_capture_on_commit_callbacks(execute=True):
        job = services.introspection_start(source=source, acting_user=ba)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    # When the BA opens the job's page
    client.force_login(ba)
    page = _page(client, job)
    # Then it is named for what it did, on what
    assert "<h1>Introspection of Acme Mart" in page
    # And says in words what it found, and leads on to the source's catalog
    assert f"Cataloged {job.result['tables']} tables, {job.result['columns']} columns" in page
    assert (
        f'<a href="/e/acme-360/mapping/catalog/?source={source.pk}" class="next-step-link">'
        "Open the catalog</a>"
    ) in page
    # And no raw result is on the page
    assert "{'" not in page and "&#x27;tables&#x27;" not in page


def test_a_profiling_job_counts_the_columns_and_leads_to_the_profiles(
    client, engagement, ba, cataloged, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.profiling_start(source=cataloged, acting_user=ba, sample_rows=1000)
    job.refresh_from_db()
    client.force_login(ba)
    page = _page(client, job)
    assert "<h1>Profiling of Acme Mart" in page
    assert (
        f"Profiled {job.result['columns']} columns of {job.result['tables']} tables, "
        "reading up to 1,000 rows of each."
    ) in page
    assert "See the profiles in the catalog</a>" in page


def test_a_failed_introspection_says_why_and_leads_back_to_the_sources(
    client, engagement, ba, source, django_capture_on_commit_callbacks
):
    # Given an introspection whose source was deleted before it ran
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.introspection_start(source=source, acting_user=ba)
    services.source_system_delete(source=source, acting_user=ba)
    callbacks[0]()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    client.force_login(ba)
    page = _page(client, job)
    # Then its name says the source is gone, the error is in words, and the way back is offered
    assert "<h1>Introspection of a deleted source system" in page
    assert "It failed: The source system no longer exists." in page
    assert (
        'href="/e/acme-360/mapping/sources/" class="next-step-link">Back to the source systems</a>'
        in page
    )


def test_the_job_list_names_jobs_in_words_in_a_bounded_number_of_queries(
    client, engagement, ba, source, django_assert_max_num_queries
):
    for _ in range(5):
        Job.objects.create(
            kind="catalog.introspect", engagement=engagement, params={"source_id": source.pk}
        )
        Job.objects.create(kind="demo.countdown", engagement=engagement)
    Job.objects.create(kind="retired.kind", engagement=engagement)
    client.force_login(ba)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("job-list", args=[engagement.slug])).content.decode()
    assert page.count(">Introspection of Acme Mart</a>") == 5
    assert page.count(">Demo countdown</a>") == 5
    assert ">retired.kind</a>" in page  # a kind no longer declared keeps its code name
    assert "catalog.introspect" not in page
