"""The catalog pages: what each role sees and may do, and a bounded number of queries."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from catalog.models import CatalogForeignKey, CatalogTable, ImpactedEntity, SourceSystem
from catalog.services import sources as services
from tests.factories import PASSWORD, CatalogColumnFactory, CatalogTableFactory, SourceSystemFactory
from workbench.choices import JobState
from workbench.models import Job

pytestmark = pytest.mark.django_db

SECRET = "n0t-f0r-y0ur-eyes"


def url(name, engagement, *args):
    return reverse(name, args=[engagement.slug, *args])


@pytest.fixture
def as_ba(client, ba):
    client.force_login(ba)
    return client


def test_the_ba_adds_a_source_and_never_sees_its_password_again(as_ba, engagement):
    response = as_ba.post(
        url("source-list", engagement),
        {
            "name": "Acme Mart",
            "url": f"postgresql+psycopg://reader:{SECRET}@db.acme/mart",
            "password_env": "",
            "schemas": "crm, mkt ,crm",
        },
    )

    assert response.status_code == 302
    page = as_ba.get(url("source-list", engagement)).content.decode()
    assert "postgresql+psycopg://reader:***@db.acme/mart" in page
    assert SECRET not in page
    source = SourceSystem.objects.get()
    assert source.schemas == ["crm", "mkt"]  # the form's list, each schema once
    edit = as_ba.get(url("source-edit", engagement, source.pk)).content.decode()
    assert SECRET not in edit
    assert 'value="crm, mkt"' in edit


def test_a_bad_url_is_shown_inline_and_nothing_is_saved(as_ba, engagement):
    response = as_ba.post(
        url("source-list", engagement), {"name": "Mart", "url": "mysql+nodriver://x@h/db"}
    )

    assert response.status_code == 400
    assert "SQLAlchemy has no dialect or driver installed" in response.content.decode()
    assert not SourceSystem.objects.exists()


def test_introspecting_from_the_ui_redirects_to_the_job_page(
    as_ba, engagement, source, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_ba.post(url("source-introspect", engagement, source.pk))

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("job-detail", engagement, job.pk)
    assert job.state == JobState.SUCCEEDED
    with django_capture_on_commit_callbacks(execute=True):
        profile = as_ba.post(url("source-profile", engagement, source.pk), {"sample_rows": "1000"})
    assert profile.status_code == 302
    assert Job.objects.filter(kind="catalog.profile", state=JobState.SUCCEEDED).exists()


def test_test_connection_reports_the_answer(as_ba, engagement, source):
    response = as_ba.post(url("source-test", engagement, source.pk), follow=True)

    assert "Connected to sqlite" in response.content.decode()


def test_a_ddl_upload_with_an_error_names_the_statement(as_ba, engagement):
    upload = io.BytesIO(b"CREATE TABLE a (id INT);\nCREATE TABLE b (id INT,\n name VARCHAR(20);")
    upload.name = "mart.sql"

    response = as_ba.post(
        url("catalog-import", engagement),
        {"source_name": "Mart", "format": "ddl", "dialect": "postgres", "file": upload},
    )

    assert response.status_code == 400
    assert "Statement 2 (line 2" in response.content.decode()
    assert not CatalogTable.objects.exists()


def test_a_csv_upload_builds_the_catalog(as_ba, engagement):
    upload = io.BytesIO(
        b"Schema,Table,Column,Data Type,Nullable,Primary Key,References,Description\n"
        b",crm_customer,customer_id,INT,N,Y,,key\n"
    )
    upload.name = "columns.csv"

    response = as_ba.post(
        url("catalog-import", engagement), {"source_name": "Mart", "format": "csv", "file": upload}
    )

    assert response.status_code == 302
    assert CatalogTable.objects.get().name == "crm_customer"


def test_the_catalog_browser_filters_by_subject_area_table_column_and_type(
    as_ba, engagement, profiled, ba
):
    customer = CatalogTable.objects.get(name="crm_customer")
    services.table_understanding_update(
        table=customer, data={"subject_area": "customer"}, acting_user=ba
    )

    page = as_ba.get(url("catalog", engagement), {"subject_area": "customer", "column": "mail"})
    rows = page.context["rows"]
    assert [f"{c.table.name}.{c.name}" for c in rows] == ["crm_customer.email"]
    by_type = as_ba.get(url("catalog", engagement), {"data_type": "numeric"}).context["rows"]
    assert [c.name for c in by_type] == ["budget_gbp"]
    fragment = as_ba.get(url("catalog", engagement), {"q": "campaign_code"}, HTTP_HX_REQUEST="true")
    assert fragment.content.decode().startswith('<section id="catalog-results">')


def test_the_catalog_page_queries_stay_bounded(as_ba, engagement, django_assert_max_num_queries):
    source = SourceSystemFactory(engagement=engagement)
    for t in range(30):
        table = CatalogTableFactory(source=source, name=f"t{t:02d}")
        for _ in range(8):
            CatalogColumnFactory(table=table)

    with django_assert_max_num_queries(12):
        response = as_ba.get(url("catalog", engagement))
    assert len(response.context["rows"]) == 240


def test_the_table_page_shows_columns_keys_profiles_and_charts(
    as_ba, engagement, profiled, django_assert_max_num_queries
):
    table = CatalogTable.objects.get(name="crm_customer")

    with django_assert_max_num_queries(16):
        response = as_ba.get(url("catalog-table", engagement, table.pk))

    page = response.content.decode()
    assert "Customer Segment" in page
    assert 'class="bar"' in page
    assert "crm_customer_address" in page  # referenced by
    assert "date as text" in page


def test_the_ba_saves_understanding_notes_and_links_an_entity(as_ba, engagement, cataloged):
    table = CatalogTable.objects.get(name="mkt_campaign")

    response = as_ba.post(
        url("catalog-table", engagement, table.pk),
        {
            "subject_area": "campaign",
            "grain": "One row per campaign",
            "derivation_notes": "channel_group derived",
            "gap_notes": "",
            "notes": "",
        },
    )
    assert response.status_code == 302
    column = table.columns.get(name="campaign_code")
    note = as_ba.post(
        url("catalog-column-note", engagement, table.pk, column.pk),
        {"notes": "Sometimes NULL"},
        HTTP_HX_REQUEST="true",
    )
    assert 'role="status">saved' in note.content.decode()
    as_ba.post(url("impacted-add", engagement, table.pk), {"entity_name": "Campaign", "note": ""})

    table.refresh_from_db()
    assert table.grain == "One row per campaign"
    assert table.columns.get(name="campaign_code").notes == "Sometimes NULL"
    link = ImpactedEntity.objects.get()
    notes = as_ba.get(url("source-notes", engagement)).content.decode()
    assert "Subject area: Campaign" in notes and "One row per campaign" in notes
    assert "Sometimes NULL" in notes and "Campaign" in notes
    as_ba.post(url("impacted-remove", engagement, table.pk, link.pk))
    assert not ImpactedEntity.objects.exists()


def test_the_erd_page_carries_the_graph(as_ba, engagement, cataloged):
    response = as_ba.get(url("catalog-erd", engagement))

    graph = response.context["graph"]
    assert len(graph["nodes"]) == 7 and len(graph["edges"]) == 6
    assert "cytoscape.min.js" in response.content.decode()


def test_the_source_notes_page_queries_stay_bounded(
    as_ba, engagement, profiled, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        as_ba.get(url("source-notes", engagement))


@pytest.mark.parametrize("name", ["source-list", "catalog", "catalog-erd", "source-notes"])
def test_outsiders_get_not_found(client, outsider, engagement, name):
    client.force_login(outsider)
    assert client.get(url(name, engagement)).status_code == 404


def test_outsiders_get_not_found_for_a_table(client, outsider, engagement, cataloged):
    client.force_login(outsider)
    table = CatalogTable.objects.first()
    assert client.get(url("catalog-table", engagement, table.pk)).status_code == 404


def test_a_viewer_reads_but_cannot_change_the_catalog(client, viewer, engagement, cataloged):
    client.force_login(viewer)
    table = CatalogTable.objects.get(name="crm_customer")

    page = client.get(url("source-list", engagement)).content.decode()
    assert "Add source system" not in page and "Re-introspect" not in page
    assert client.get(url("catalog-table", engagement, table.pk)).status_code == 200
    assert (
        client.post(url("catalog-table", engagement, table.pk), {"grain": "x"}).status_code == 403
    )
    assert client.post(url("source-introspect", engagement, cataloged.pk)).status_code == 403
    assert (
        client.post(url("source-list", engagement), {"name": "x", "url": "sqlite://"}).status_code
        == 403
    )
    assert (
        client.post(url("impacted-add", engagement, table.pk), {"entity_name": "x"}).status_code
        == 403
    )
    column = table.columns.first()
    assert (
        client.post(
            url("catalog-column-note", engagement, table.pk, column.pk), {"notes": "x"}
        ).status_code
        == 403
    )


def test_a_lead_writes_notes_but_cannot_manage_the_connection(client, lead, engagement, cataloged):
    client.force_login(lead)
    table = CatalogTable.objects.get(name="crm_customer")

    assert client.post(url("source-test", engagement, cataloged.pk)).status_code == 403
    assert (
        client.post(url("catalog-table", engagement, table.pk), {"grain": "x"}).status_code == 302
    )


def test_the_dashboard_shows_the_source_understanding_phase(client, ba, engagement, profiled):
    client.force_login(ba)
    page = client.get(reverse("engagement-dashboard", args=[engagement.slug])).content.decode()

    assert "7 tables cataloged" in page
    assert "7 of 7 tables profiled" in page
    assert PASSWORD not in page


def test_the_admin_shows_a_source_without_its_secret(client, staff, engagement, ba):
    source = services.source_system_create(
        engagement=engagement, name="Mart", url=f"postgresql://u:{SECRET}@h/db", acting_user=ba
    )
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)

    page = client.get(reverse("admin:catalog_sourcesystem_change", args=[source.pk]))

    assert page.status_code == 200
    assert SECRET not in page.content.decode()
    assert source.password_encrypted not in page.content.decode()


def test_the_sources_and_erd_pages_queries_stay_bounded(
    as_ba, engagement, django_assert_max_num_queries
):
    for n in range(6):
        source = SourceSystemFactory(engagement=engagement, name=f"Mart {n}")
        previous = None
        for t in range(10):
            table = CatalogTableFactory(source=source, name=f"t{t}")
            if previous is not None:
                CatalogForeignKey.objects.create(
                    engagement=engagement,
                    table=table,
                    columns=["parent_id"],
                    referred_table_name=previous.name,
                    referred_table=previous,
                    referred_columns=["id"],
                )
            previous = table

    with django_assert_max_num_queries(10):
        as_ba.get(url("source-list", engagement))
    with django_assert_max_num_queries(10):
        response = as_ba.get(url("catalog-erd", engagement))
    assert len(response.context["graph"]["edges"]) == 54
