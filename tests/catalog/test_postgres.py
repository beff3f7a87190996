"""A PostgreSQL Mart: a database the test creates with realistic marketing tables in a schema,
cataloged, profiled and changed; and the faults a real server produces."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from catalog.models import CatalogColumn, CatalogTable, ColumnProfile
from catalog.services import connection
from catalog.services import sources as services
from catalog.services.profiling import catalog_profile
from tests.conftest import POSTGRES_ADDRESS, _reachable, missing_service
from workbench.choices import JobState
from workbench.jobs import JobError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
DATABASE = f"wb_test_mart_{os.getpid()}"
MART_URL = f"{SERVER}/{DATABASE}"

MART_DDL = """
CREATE SCHEMA mart;
CREATE SCHEMA slow;
CREATE TABLE mart.ref_channel (
    channel_code varchar(5) PRIMARY KEY,
    channel_name text NOT NULL,
    is_paid boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE mart.ref_channel IS 'Channel lookup maintained by marketing ops';
CREATE TABLE mart.crm_customer (
    customer_id bigserial PRIMARY KEY,
    external_ref uuid NOT NULL UNIQUE,
    "first name" varchar(80),
    "Prénom" varchar(80),
    email varchar(200),
    phone text,
    birth_date text,
    loyalty_points integer,
    attributes jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN mart.crm_customer.email IS 'As typed by the customer';
CREATE TABLE mart.mkt_campaign (
    campaign_id serial PRIMARY KEY,
    "CampaignCode" varchar(20),
    "select" text,
    channel_code varchar(5) REFERENCES mart.ref_channel (channel_code),
    budget numeric(12, 2),
    starts_on date
);
CREATE TABLE mart.mkt_email_event (
    event_id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES mart.crm_customer (customer_id),
    campaign_id integer REFERENCES mart.mkt_campaign (campaign_id),
    "order" smallint,
    event_type varchar(10) NOT NULL,
    event_ts timestamp NOT NULL,
    opened boolean
);
CREATE INDEX ix_event_customer ON mart.mkt_email_event (customer_id, event_ts);
CREATE VIEW mart.v_campaign_events AS
    SELECT c."CampaignCode", count(*) AS events
    FROM mart.mkt_email_event e JOIN mart.mkt_campaign c USING (campaign_id) GROUP BY 1;
INSERT INTO mart.ref_channel VALUES ('EML', 'Email', false), ('SMS', 'SMS', false),
    ('PSO', 'Paid social', true);
INSERT INTO mart.crm_customer (external_ref, "first name", "Prénom", email, phone, birth_date,
        loyalty_points, attributes, created_at)
    SELECT md5(i::text)::uuid, 'Name ' || (i % 50), CASE WHEN i % 3 = 0 THEN 'Zoë' END,
        CASE WHEN i % 20 = 0 THEN NULL WHEN i % 2 = 0 THEN 'Customer' || i || '@Example.com'
             ELSE 'customer' || i || '@example.com' END,
        CASE i % 3 WHEN 0 THEN '+44 7700 ' || lpad(i::text, 6, '0') WHEN 1 THEN '07700' || lpad(i::text, 6, '0')
             ELSE NULL END,
        to_char(date '1970-01-01' + (i * 7), 'YYYY-MM-DD'), i % 1000,
        jsonb_build_object('tier', i % 4), timestamptz '2024-01-01' + i * interval '1 hour'
    FROM generate_series(1, 2000) AS i;
INSERT INTO mart.mkt_campaign ("CampaignCode", "select", channel_code, budget, starts_on)
    SELECT CASE WHEN i % 5 = 0 THEN NULL ELSE 'CMP-' || i END, 'option ' || (i % 3),
        (ARRAY['EML', 'SMS', 'PSO'])[1 + i % 3], 1000 + i * 10.5, date '2024-01-01' + i
    FROM generate_series(1, 40) AS i;
INSERT INTO mart.mkt_email_event (customer_id, campaign_id, "order", event_type, event_ts, opened)
    SELECT 1 + i % 2000, CASE WHEN i % 10 = 0 THEN NULL ELSE 1 + i % 40 END, i % 4,
        (ARRAY['SENT', 'OPEN', 'CLICK'])[1 + i % 3], timestamp '2024-03-01' + i * interval '1 minute',
        i % 2 = 0
    FROM generate_series(1, 5000) AS i;
CREATE VIEW slow.v_slow AS SELECT pg_sleep(0.5)::text AS waited, 1 AS n;
"""


@pytest.fixture(scope="module")
def pg_mart():
    if not _reachable(POSTGRES_ADDRESS):
        missing_service("PostgreSQL is not reachable on 127.0.0.1:5432")
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
    mart = sa.create_engine(MART_URL)
    with mart.begin() as conn:
        conn.exec_driver_sql(MART_DDL.replace("%", "%%"))
    yield mart
    mart.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def pg_source(pg_mart, engagement, ba):
    return services.source_system_create(
        engagement=engagement,
        name="Acme PG Mart",
        url=MART_URL,
        default_schema="mart",
        acting_user=ba,
    )


def test_a_postgres_schema_is_cataloged_with_keys_comments_and_odd_names(pg_source, ba):
    result = services.catalog_introspect(source=pg_source, acting_user=ba)

    assert (result["tables"], result["foreign_keys"]) == (5, 3)
    tables = {t.name: t for t in CatalogTable.objects.filter(source=pg_source)}
    assert sorted(tables) == [
        "crm_customer",
        "mkt_campaign",
        "mkt_email_event",
        "ref_channel",
        "v_campaign_events",
    ]
    assert tables["v_campaign_events"].kind == "view"
    assert tables["ref_channel"].comment == "Channel lookup maintained by marketing ops"
    assert tables["crm_customer"].schema == "mart"
    assert tables["crm_customer"].unique_constraints[0]["columns"] == ["external_ref"]
    assert {
        "name": "ix_event_customer",
        "columns": ["customer_id", "event_ts"],
        "unique": False,
    } in tables["mkt_email_event"].indexes
    columns = {c.name: c for c in tables["crm_customer"].columns.all()}
    assert "first name" in columns and "Prénom" in columns
    assert (columns["email"].data_type, columns["email"].length, columns["email"].comment) == (
        "VARCHAR(200)",
        200,
        "As typed by the customer",
    )
    assert columns["customer_id"].default.startswith("nextval(")
    budget = tables["mkt_campaign"].columns.get(name="budget")
    assert (budget.data_type, budget.precision, budget.scale) == ("NUMERIC(12, 2)", 12, 2)
    assert tables["mkt_campaign"].columns.filter(name__in=["select", "CampaignCode"]).count() == 2
    event = tables["mkt_email_event"]
    fk = event.foreign_keys.get(columns=["campaign_id"])
    assert (fk.referred_schema, fk.referred_table.name) == ("mart", "mkt_campaign")


def test_a_postgres_mart_is_profiled_set_based_with_odd_names(pg_source, ba):
    services.catalog_introspect(source=pg_source, acting_user=ba)

    result = catalog_profile(source=pg_source, acting_user=ba, sample_rows=10_000)

    assert result["tables"] == 5

    def profile(table, column):
        return ColumnProfile.objects.get(column__table__name=table, column__name=column)

    email = profile("crm_customer", "email")
    assert (email.sample_rows, email.null_count, email.distinct_count) == (2000, 100, 1900)
    assert email.patterns == [{"pattern": "email", "percent": 100.0}]
    assert profile("crm_customer", "birth_date").patterns == [
        {"pattern": "date as text", "percent": 100.0}
    ]
    assert profile("crm_customer", "Prénom").top_values == [{"value": "Zoë", "count": 666}]
    assert profile("crm_customer", "attributes").distinct_count is None  # jsonb: nulls only
    assert profile("crm_customer", "external_ref").distinct_count == 2000
    assert profile("mkt_email_event", "opened").top_values == [
        {"value": "False", "count": 2500},
        {"value": "True", "count": 2500},
    ]
    order = profile("mkt_email_event", "order")
    assert (order.min_value, order.max_value, order.distinct_count) == ("0", "3", 4)
    select = profile("mkt_campaign", "select")
    assert select.distinct_count == 3
    assert profile("mkt_campaign", "CampaignCode").null_count == 8
    assert profile("mkt_campaign", "budget").min_value == "1010.50"
    assert CatalogTable.objects.get(name="mkt_email_event").row_count == 5000


def test_reintrospecting_after_a_postgres_schema_change_shows_the_diff(pg_mart, engagement, ba):
    with pg_mart.begin() as conn:
        conn.exec_driver_sql(
            "CREATE SCHEMA change_me; CREATE TABLE change_me.t (id int PRIMARY KEY, code varchar(10), "
            "gone text); CREATE TABLE change_me.old (id int)"
        )
    source = services.source_system_create(
        engagement=engagement,
        name="Changing",
        url=MART_URL,
        default_schema="change_me",
        acting_user=ba,
    )
    services.catalog_introspect(source=source, acting_user=ba)
    column = CatalogColumn.objects.get(table__source=source, name="code")
    services.column_notes_update(column=column, notes="Campaign code", acting_user=ba)
    with pg_mart.begin() as conn:
        conn.exec_driver_sql(
            "ALTER TABLE change_me.t ALTER COLUMN code TYPE varchar(40); ALTER TABLE change_me.t DROP COLUMN gone;"
            ' ALTER TABLE change_me.t ADD COLUMN "New Col" date; DROP TABLE change_me.old;'
            " CREATE TABLE change_me.fresh (id int REFERENCES change_me.t (id))"
        )

    diff = services.catalog_introspect(source=source, acting_user=ba)["diff"]

    assert diff["tables_added"] == ["change_me.fresh"]
    assert diff["tables_dropped"] == ["change_me.old"]
    assert diff["columns_added"] == ["change_me.t.New Col"]
    assert diff["columns_dropped"] == ["change_me.t.gone"]
    assert diff["types_changed"] == [
        {"column": "change_me.t.code", "from": "VARCHAR(10)", "to": "VARCHAR(40)"}
    ]
    assert CatalogColumn.objects.get(pk=column.pk).notes == "Campaign code"


def _job(start, capture):
    with capture(execute=True):
        job = start()
    job.refresh_from_db()
    return job


def test_a_missing_schema_fails_the_job_and_keeps_the_catalog(
    pg_source, ba, django_capture_on_commit_callbacks
):
    services.catalog_introspect(source=pg_source, acting_user=ba)

    job = _job(
        lambda: services.introspection_start(source=pg_source, acting_user=ba, schema="nope"),
        django_capture_on_commit_callbacks,
    )

    assert job.state == JobState.FAILED
    assert job.error.startswith("The schema 'nope' does not exist in the Mart (it has: ")
    assert "mart" in job.error
    assert CatalogTable.objects.filter(source=pg_source).count() == 5


def test_wrong_credentials_fail_the_job_without_the_password(
    pg_mart, engagement, ba, django_capture_on_commit_callbacks
):
    source = services.source_system_create(
        engagement=engagement,
        name="Wrong",
        url=f"postgresql+psycopg://nobody_here:Sup3r-Secret@127.0.0.1:5432/{DATABASE}",
        acting_user=ba,
    )

    job = _job(
        lambda: services.introspection_start(source=source, acting_user=ba),
        django_capture_on_commit_callbacks,
    )

    assert job.state == JobState.FAILED
    assert job.error.startswith("Could not connect to the Mart: connection failed:")
    assert 'role "nobody_here" does not exist' in job.error
    assert "Sup3r-Secret" not in job.error + job.message


def test_a_statement_timeout_on_postgres_fails_cleanly(pg_mart, engagement, ba):
    source = services.source_system_create(
        engagement=engagement, name="Slow", url=MART_URL, default_schema="slow", acting_user=ba
    )
    services.catalog_introspect(source=source, acting_user=ba)

    with pytest.raises(JobError) as failed:
        catalog_profile(source=source, acting_user=ba, statement_timeout=0.1)

    assert str(failed.value) == (
        "The Mart did not answer within the statement timeout of 0.1 s while profiling slow.v_slow."
    )
    assert CatalogTable.objects.get(source=source).profiled_at is None


def test_the_postgres_connection_is_read_only(pg_source):
    mart = connection.mart_engine(pg_source)

    with (
        pytest.raises(JobError) as refused,
        connection.mart_connection(mart, doing="writing") as conn,
    ):
        conn.exec_driver_sql("DELETE FROM mart.ref_channel")

    assert "read-only transaction" in str(refused.value)
