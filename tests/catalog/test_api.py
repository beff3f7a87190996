"""The catalog API under /api/v1/: source systems without secrets, tables, columns, profiles,
notes and impacted entities; outsiders get 404, members without the right 403."""

from __future__ import annotations

import io

import pytest
from rest_framework.test import APIClient

from catalog.models import CatalogTable, ImpactedEntity, SourceSystem

pytestmark = pytest.mark.django_db

SECRET = "api-s3cret"
BASE = "/api/v1/engagements/acme-360"


@pytest.fixture
def api(ba):
    client = APIClient()
    client.force_authenticate(ba)
    return client


def test_a_source_system_is_created_and_never_returns_its_password(api):
    response = api.post(
        f"{BASE}/sources/",
        {"name": "Acme Mart", "url": f"postgresql+psycopg://reader:{SECRET}@db/mart"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["display_url"] == "postgresql+psycopg://reader:***@db/mart"
    assert body["has_password"] is True and "url" not in body
    listing = api.get(f"{BASE}/sources/").content.decode()
    detail = api.get(f"{BASE}/sources/{body['id']}/").content.decode()
    assert SECRET not in listing + detail + response.content.decode()


def test_a_bad_url_is_a_400_naming_the_field(api):
    response = api.post(f"{BASE}/sources/", {"name": "M", "url": "nonsense"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "url": ["This is not a SQLAlchemy URL (expected dialect://user@host/database)."]
    }
    assert not SourceSystem.objects.exists()


def test_introspect_and_profile_start_jobs(api, source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        introspect = api.post(f"{BASE}/sources/{source.pk}/introspect/", {}, format="json")
    assert introspect.status_code == 202
    assert introspect.json()["kind"] == "catalog.introspect"
    # the job ran once the request's transaction committed (eager Celery)
    assert CatalogTable.objects.filter(source=source).count() == 7
    with django_capture_on_commit_callbacks(execute=True):
        profile = api.post(
            f"{BASE}/sources/{source.pk}/profile/", {"sample_rows": 500}, format="json"
        )
    assert profile.status_code == 202
    assert profile.json()["params"]["sample_rows"] == 500


def test_a_source_covers_a_list_of_schemas_and_introspects_some_of_them(api):
    created = api.post(
        f"{BASE}/sources/",
        {"name": "Two schemas", "url": "postgresql+psycopg://u@db/mart", "schemas": ["crm", "mkt"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["schemas"] == ["crm", "mkt"]
    source = created.json()["id"]

    changed = api.patch(f"{BASE}/sources/{source}/", {"schemas": ["mkt", " crm "]}, format="json")
    assert changed.json()["schemas"] == ["mkt", "crm"]
    assert changed.json()["default_schema"] == "mkt"
    refused = api.patch(f"{BASE}/sources/{source}/", {"schemas": "crm"}, format="json")
    assert refused.status_code == 400  # a list, not a text
    assert SourceSystem.objects.get(pk=source).schemas == ["mkt", "crm"]

    job = api.post(f"{BASE}/sources/{source}/introspect/", {"schemas": ["crm"]}, format="json")
    assert job.status_code == 202
    assert job.json()["params"] == {"source_id": source, "schemas": ["crm"]}


def test_test_connection_answers_ok_or_why_not(api, source):
    assert api.post(f"{BASE}/sources/{source.pk}/test/").json()["ok"] is True


def test_tables_columns_and_profiles_are_listed_and_filtered(api, profiled):
    tables = api.get(f"{BASE}/catalog/tables/", {"name": "customer"}).json()
    assert [t["name"] for t in tables["results"]] == [
        "crm_customer",
        "crm_customer_address",
        "v_active_customer",
    ]
    address = next(t for t in tables["results"] if t["name"] == "crm_customer_address")
    assert address["foreign_keys"][0]["referred_table_name"] == "crm_customer"
    columns = api.get(f"{BASE}/catalog/columns/", {"table": "crm_customer", "data_type": "text"})
    assert "Customer Segment" in [c["name"] for c in columns.json()["results"]]
    column = next(c for c in columns.json()["results"] if c["name"] == "email")
    profiles = api.get(f"{BASE}/catalog/profiles/", {"column": column["id"]}).json()["results"]
    assert profiles[0]["null_count"] == 56


def test_the_catalog_grid_gets_the_filtered_columns_with_their_profiles_in_one_answer(
    api, profiled
):
    response = api.get(f"{BASE}/catalog/columns/grid/", {"column": "email"})

    assert response.status_code == 200
    body = response.json()
    assert (body["cut"], body["limit"]) == (False, 5000)
    email = next(r for r in body["rows"] if r["table_name"] == "crm_customer")
    assert (email["name"], email["patterns"]) == ("email", ["email"])
    assert email["null_percent"] > 0
    assert {r["name"].lower() for r in body["rows"]} == {"email", "email_address", "owner_email"}


def test_the_catalog_grid_refuses_a_filter_it_cannot_read(api, cataloged):
    response = api.get(f"{BASE}/catalog/columns/grid/", {"source": "the big one"})

    assert response.status_code == 400
    assert response.json()["source"] == ["Enter a number."]


def test_notes_are_written_through_the_api(api, cataloged):
    table = CatalogTable.objects.get(name="crm_subscription")
    column = table.columns.get(name="opt_in_flag")

    response = api.patch(
        f"{BASE}/catalog/tables/{table.pk}/",
        {"subject_area": "customer", "grain": "One row per customer and channel"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["grain"] == "One row per customer and channel"
    note = api.patch(f"{BASE}/catalog/columns/{column.pk}/", {"notes": "Y/1/yes"}, format="json")
    assert note.json()["notes"] == "Y/1/yes"
    link = api.post(
        f"{BASE}/catalog/impacted-entities/",
        {"table": table.pk, "entity_name": "Subscription"},
        format="json",
    )
    assert link.status_code == 201
    assert api.delete(f"{BASE}/catalog/impacted-entities/{link.json()['id']}/").status_code == 204
    assert not ImpactedEntity.objects.exists()


def test_a_csv_column_list_is_imported_through_the_api(api):
    upload = io.BytesIO(
        b"Schema,Table,Column,Data Type,Nullable,Primary Key,References,Description\n"
        b",ref_channel,channel_code,TEXT,N,Y,,\n"
    )
    upload.name = "columns.csv"

    response = api.post(
        f"{BASE}/sources/import/",
        {"source_name": "From file", "format": "csv", "file": upload},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    assert response.json()["result"]["tables"] == 1


def test_a_ddl_that_does_not_parse_is_a_400(api):
    upload = io.BytesIO(b"CREATE TABLE a (\n id INT,\n x VARCHAR(3;\n")
    upload.name = "x.sql"

    response = api.post(
        f"{BASE}/sources/import/",
        {"source_name": "From file", "format": "ddl", "file": upload},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["file"][0].startswith("Statement 1 (line 1,")


@pytest.mark.parametrize(
    "path",
    [
        "sources/",
        "catalog/tables/",
        "catalog/columns/",
        "catalog/columns/grid/",
        "catalog/profiles/",
        "catalog/impacted-entities/",
    ],
)
def test_outsiders_get_404(outsider, engagement, path):
    client = APIClient()
    client.force_authenticate(outsider)
    assert client.get(f"{BASE}/{path}").status_code == 404


def test_members_without_the_right_get_403(viewer, cataloged):
    client = APIClient()
    client.force_authenticate(viewer)
    table = CatalogTable.objects.first()

    assert client.get(f"{BASE}/catalog/tables/").status_code == 200
    assert (
        client.post(
            f"{BASE}/sources/", {"name": "x", "url": "sqlite://"}, format="json"
        ).status_code
        == 403
    )
    assert client.post(f"{BASE}/sources/{cataloged.pk}/introspect/").status_code == 403
    assert (
        client.patch(
            f"{BASE}/catalog/tables/{table.pk}/", {"grain": "x"}, format="json"
        ).status_code
        == 403
    )
    assert client.delete(f"{BASE}/sources/{cataloged.pk}/").status_code == 403
