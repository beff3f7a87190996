"""Stories of test runs: load the interface tables from sample data, run the unit tests, keep the
results, route failures back, export the Unit Test Package; and the faults that stop a run."""

from __future__ import annotations

import io
import shutil
import sqlite3
from contextlib import closing
from io import StringIO

import pytest
import sqlalchemy as sa
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from exports.etl.plan import build_plan
from exports.models import TestRun, UnitTestResult
from exports.services.testrun import (
    attribute_mapping_path,
    etl_run_execute,
    etl_run_start,
    failing_test_feedback,
    unit_test_route,
)
from exports.testrun import engine
from exports.testrun.choices import FailureRoute, RunStatus, TestType
from exports.testrun.package import HEADERS, package_markdown, package_xlsx
from mappings.models import AttributeMapping, EntityMapping
from workbench.jobs import JobError

from ..printed import page_text, pages, require_libreoffice, to_pdf
from .expected import expected_rows
from .pgmart import PG_URL, copy_mart, drop_schema, unique_schema


def _run(engagement, user, source, target, **kwargs):
    return etl_run_execute(
        engagement=engagement,
        options=engine.RunOptions(source_url=source, target_url=target, **kwargs),
        acting_user=user,
    )


def _cli(*args):
    out, err = StringIO(), StringIO()
    call_command("run_etl_test", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_clean_run_from_the_cli_loads_every_entity_and_passes(
    mapped, etl, tmp_path, demo_mart_file
):
    # Given a fully mapped engagement and a sample Mart
    expected = expected_rows(demo_mart_file, unicode_case=False)
    rows = sum(len(v) for v in expected.values())
    # When the ETL developer runs the test from the command line
    out, err = _cli(
        "--engagement", "acme-360", "--as", "etl",
        "--source", f"sqlite:///{demo_mart_file}",
        "--target", f"sqlite:///{tmp_path / 'target.sqlite3'}",
        "-o", str(tmp_path / "package"),
    )  # fmt: skip
    # Then it prints the summary and exits 0
    run = TestRun.objects.get()
    assert out == f"loaded {rows} rows into 5 entities; {run.tests_total} tests, 0 failed\n"
    assert err == ""
    assert run.status == RunStatus.PASSED
    assert run.entity_rows == {entity: len(v) for entity, v in expected.items()}
    assert run.source_url == f"sqlite:///{demo_mart_file}"
    assert run.content_hash == build_plan(engagement=mapped).content_hash
    # And every kind of unit test ran (a clean run has no failed load to report)
    kinds = set(run.results.values_list("test_type", flat=True))
    assert kinds == set(TestType.values) - {TestType.LOAD}
    # And the run's history names the ETL developer
    assert [h.history_user for h in run.history.order_by("history_id")] == [etl, etl]
    assert run.results.first().history.get().history_user == etl
    # And the Unit Test Package and the reconciliation report were written
    assert sorted(p.name for p in (tmp_path / "package").iterdir()) == [
        f"reconciliation_run_{run.pk}.csv",
        f"reconciliation_run_{run.pk}.md",
        f"unit_test_package_run_{run.pk}.md",
        f"unit_test_package_run_{run.pk}.xlsx",
    ]


def test_the_first_draft_of_the_demo_mapping_fails_with_samples_and_links(
    first_draft, etl, tmp_path, demo_mart_file
):
    # Given the demo mapping's first draft, which loads addresses and events of closed customers
    # When it runs from the command line
    with pytest.raises(CommandError) as failed:
        _cli(
            "--engagement", "acme-360", "--as", "etl",
            "--source", f"sqlite:///{demo_mart_file}",
            "--target", f"sqlite:///{tmp_path / 'target.sqlite3'}",
        )  # fmt: skip
    run = TestRun.objects.get()
    # Then it exits non-zero naming how many tests failed
    assert str(failed.value) == f"{run.tests_failed} of {run.tests_total} unit tests failed."
    assert run.status == RunStatus.FAILED
    assert run.skipped == {
        "subscription": "The required attribute plan_code has no rule and no default."
    }
    failing = {r.name: r for r in run.results.filter(passed=False)}
    assert set(failing) == {
        "campaign: load",
        "campaign.campaign_code: unique",
        "customer.phone: pattern",
        "customer_address: load",
        "customer_address.customer_id: foreign key to customer",
        "email_event: load",
        "email_event.customer_id: foreign key to customer",
        "email_event.campaign_id: foreign key to campaign",
    }
    # The generated scripts ran with every constraint: the loads that broke one were rolled back
    # and say which constraint, and the checks of their rows show the rows at fault
    assert failing["campaign: load"].actual == (
        "sql/02_campaign.sql (campaign) failed and was rolled back: UNIQUE constraint failed: "
        "if_campaign.campaign_code"
    )
    assert failing["customer_address: load"].actual.endswith("FOREIGN KEY constraint failed")
    assert "-- step: insert" in failing["customer_address: load"].sql
    orphan = failing["customer_address.customer_id: foreign key to customer"]
    assert orphan.expected == "0 rows"
    assert orphan.actual.endswith(" rows") and orphan.actual != "0 rows"
    assert 0 < len(orphan.sample_rows) <= 20
    assert set(orphan.sample_rows[0]) == {"address_id", "customer_id"}
    assert "LEFT JOIN if_customer AS p" in orphan.sql
    # And the failure links to the attribute mapping
    mapping = AttributeMapping.objects.get(
        entity_mapping__entity_name="customer_address", attribute_name="customer_id"
    )
    assert orphan.attribute_mapping == mapping
    assert (
        attribute_mapping_path(engagement=first_draft, attribute_mapping_id=mapping.pk)
        == f"/e/acme-360/mapping/attributes/{mapping.pk}/"
    )
    # And phones not yet in E.164 break the contract's pattern (datacontract-cli agrees)
    phones = failing["customer.phone: pattern"]
    assert phones.test_type == TestType.TYPE_CONFORMANCE
    assert {"customer_id", "phone"} == set(phones.sample_rows[0])
    assert "REGEXP '^\\+[1-9][0-9]{6,14}$'" in phones.sql
    # And campaigns without a code all defaulted to UNKNOWN break the contract's unique: true
    codes = failing["campaign.campaign_code: unique"]
    assert codes.test_type == TestType.UNIQUE
    assert {row["campaign_code"] for row in codes.sample_rows} == {"UNKNOWN"}
    (copies,) = {row["copies"] for row in codes.sample_rows}
    assert copies == int(codes.actual.split()[0]) > 1  # each duplicate row, with their number
    # And an unknown-campaign default is an orphan too
    unknown = failing["email_event.campaign_id: foreign key to campaign"]
    assert {row["campaign_id"] for row in unknown.sample_rows} == {"UNKNOWN"}


def test_a_failure_is_routed_back_and_can_be_raised_as_feedback(
    first_draft, etl, sme, tmp_path, demo_mart_file
):
    run = _run(first_draft, etl, f"sqlite:///{demo_mart_file}", f"sqlite:///{tmp_path}/t.sqlite3")
    orphan = run.results.get(name="customer_address.customer_id: foreign key to customer")
    # When the ETL developer routes it back to the BA as a mapping error
    unit_test_route(
        result=orphan,
        route=FailureRoute.MAPPING,
        comments="Filter the addresses of closed customers too.",
        acting_user=etl,
    )
    orphan.refresh_from_db()
    assert orphan.route == FailureRoute.MAPPING
    latest = orphan.history.latest()
    assert (latest.history_user, latest.route) == (etl, "mapping")
    # And a test that is not about one attribute can only be an implementation issue
    count = run.results.filter(test_type=TestType.RECORD_COUNT).first()
    count.passed = False
    with pytest.raises(Exception) as refused:
        unit_test_route(result=count, route=FailureRoute.MAPPING, acting_user=etl)
    assert refused.value.messages == [
        "This test is not about one attribute mapping; mark it an implementation issue."
    ]
    # And a passing test is not routed
    passing = run.results.filter(passed=True).first()
    with pytest.raises(Exception) as refused:
        unit_test_route(result=passing, route=FailureRoute.IMPLEMENTATION, acting_user=etl)
    assert refused.value.messages == ["Only a failing test is routed."]
    # And the SME may not route (RUN_ETL is the ETL developer's)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        unit_test_route(result=orphan, route=FailureRoute.IMPLEMENTATION, acting_user=sme)
    # And the UAT-feedback hook hands over what a feedback item needs
    feedback = failing_test_feedback(result_id=orphan.pk, user=sme)
    assert feedback["title"] == (
        "Unit test failed: customer_address.customer_id: foreign key to customer"
    )
    assert feedback["link"] == f"/e/acme-360/mapping/attributes/{orphan.attribute_mapping_id}/"
    assert feedback["entity_name"] == "customer_address"
    assert feedback["route"] == "mapping"


def test_the_unit_test_package_lists_every_query_with_its_result(
    first_draft, etl, tmp_path, demo_mart_file
):
    run = _run(first_draft, etl, f"sqlite:///{demo_mart_file}", f"sqlite:///{tmp_path}/t.sqlite3")
    results = list(run.results.all())
    # Excel: a cover and one row per test case with its ID and the eight columns
    content = package_xlsx(run)
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Cover", "Test Cases"]
    assert book["Cover"]["A1"].value == "Unit Test Package — Acme 360"
    sheet = book["Test Cases"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert len(rows) == 1 + len(results)
    for row, result in zip(rows[1:], results, strict=True):
        assert row[1] == result.name
        assert row[2] == TestType(result.test_type).label
        assert row[4] == result.sql
        assert (row[5], row[6], row[7]) == (result.expected, result.actual, result.status_label)
    failing = next(r for r in rows[1:] if r[7] == "Fail" and r[2] != TestType.LOAD.label)
    assert "sample failing rows" in failing[8]
    # Each test case has an ID a tester can quote: numbered per entity in the order the checks
    # of the spec are built; a failed load has its own, so it shifts no check's number
    ids = {row[1]: row[0] for row in rows[1:]}
    assert len(set(ids.values())) == len(results)
    assert ids["customer: record count"] == "UT-customer-001"
    assert ids["customer_address: load"] == "UT-customer_address-LOAD"
    customer = [row[0] for row in rows[1:] if row[0].startswith("UT-customer-")]
    assert customer == [f"UT-customer-{n:03d}" for n in range(1, len(customer) + 1)]
    # Markdown: every test case with its ID and SQL
    text = package_markdown(run)
    assert text.count("```sql") == len(results)
    assert "## UT-customer-001 — customer: record count" in text
    assert f"**Result:** {run.summary}." in text
    # Printed by LibreOffice: landscape, every column on one page wide, the header on every page
    require_libreoffice()
    workbook = tmp_path / "package.xlsx"
    workbook.write_bytes(content)
    laid_out = pages(to_pdf(workbook))
    cover, *cases = laid_out
    assert "Unit Test Package — Acme 360" in page_text(cover)
    assert all(page.width > page.height for page in laid_out)  # landscape
    assert len(cases) <= len(results) / 4
    for n, page in enumerate(cases, start=2):
        text = page_text(page)
        assert f"Test Cases — page {n} of {len(laid_out)}" in text
        assert page.lines[0].text.startswith("Test Case ID"), n
        for label in ("Type of Testing", "Test SQL", "Actual Result", "Status", "Comments"):
            assert label in text, (n, label)
    assert "UT-customer-001" in page_text(cases[0]) + page_text(cases[1])


def _loaded_then_tampered(engagement, tmp_path, demo_mart_file, *statements):
    """The demo loaded cleanly into a SQLite target, then `statements` run on that target behind
    the ETL's back: the plan and the run's options, for running the checks again."""
    target = tmp_path / "t.sqlite3"
    plan = build_plan(engagement=engagement)
    options = engine.RunOptions(
        source_url=f"sqlite:///{demo_mart_file}", target_url=f"sqlite:///{target}"
    )
    assert not engine.run(plan, options).failed
    with closing(sqlite3.connect(target)) as db, db:  # closed, and committed
        for statement in statements:
            db.execute(statement)
    return plan, options


def test_a_field_value_that_differs_from_the_rule_fails_with_the_row(
    mapped, etl, tmp_path, demo_mart_file
):
    # Given a clean load into SQLite, when a loaded value is changed behind the ETL's back
    plan, options = _loaded_then_tampered(
        mapped,
        tmp_path,
        demo_mart_file,
        "UPDATE if_campaign SET name = 'Tampered' WHERE campaign_id = '1'",
    )
    source, target_engine = (
        sa.create_engine(options.source_url),
        sa.create_engine(options.target_url),
    )
    results = engine.run_checks(plan, source, target_engine, "sqlite", "sqlite", options)
    # Then the field-value check of campaign.name fails, showing the row
    failed = [r for r in results if not r.passed]
    assert [r.check.name for r in failed] == ["campaign.name: field values"]
    assert failed[0].actual == "35 equal, 1 differ"
    assert failed[0].samples == [
        {"campaign_id": "1", "expected": "Summer Launch 2024", "loaded": "Tampered"}
    ]


def test_the_checks_of_a_table_are_counted_in_one_scan_and_agree_with_one_query_each(
    mapped, etl, tmp_path, demo_mart_file
):
    # Given a clean load into SQLite, then rows broken behind the ETL's back
    # (SQLite keeps a value longer than its VARCHAR)
    plan, options = _loaded_then_tampered(
        mapped,
        tmp_path,
        demo_mart_file,
        "UPDATE if_campaign SET name = printf('%.201c', 'x') WHERE campaign_id = '1'",
        "UPDATE if_campaign SET campaign_code = printf('%.31c', 'y') || campaign_id"
        " WHERE campaign_id < '3'",
    )
    source = sa.create_engine(options.source_url)
    target_engine = engine._engine(options.target_url, role="target")
    statements: list[str] = []
    sa.event.listen(
        target_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    # When the unit tests run
    results = engine.run_checks(plan, source, target_engine, "sqlite", "sqlite", options)
    # Then each interface table is scanned once for the checks that are a condition on its rows
    tables = {e.table for e in plan.loadable}
    together = [s for s in statements if "COUNT(CASE" in s]
    assert len(together) == len(tables)
    # and every check's count is the one its own query gives, the broken rows among them
    counted = {}
    with target_engine.connect() as conn:
        for result in results:
            check = result.check
            if (
                check.violations is not None
                and not check.on_source
                and check.kind != "record_count"
            ):
                text = engine.sql.render(check.count_tree(), "sqlite")
                counted[check.name] = conn.execute(sa.text(text)).scalar()
                assert result.actual.startswith(f"{counted[check.name]} "), check.name
    assert counted["campaign.name: type conforms"] == 1
    assert counted["campaign.campaign_code: type conforms"] >= 2


def test_the_same_database_loads_with_insert_select(mapped, etl, tmp_path, demo_mart_file):
    database = tmp_path / "mart.sqlite3"
    shutil.copy(demo_mart_file, database)
    run = _run(mapped, etl, f"sqlite:///{database}", f"sqlite:///{database}")
    assert run.status == RunStatus.PASSED
    expected = expected_rows(demo_mart_file, unicode_case=False)
    assert run.entity_rows == {entity: len(v) for entity, v in expected.items()}


def test_a_target_table_of_another_shape_stops_the_run(mapped, etl, tmp_path, demo_mart_file):
    target = tmp_path / "t.sqlite3"
    db = sqlite3.connect(target)
    db.execute("CREATE TABLE if_campaign (campaign_id TEXT, budget REAL)")
    db.close()
    with pytest.raises(JobError) as stopped:
        _run(mapped, etl, f"sqlite:///{demo_mart_file}", f"sqlite:///{target}")
    message = (
        "The target table if_campaign exists with another shape (missing columns: "
        "budget_amount, campaign_code, channel, end_date, name, start_date; unexpected columns: "
        "budget). "
        "Drop it or choose another target."
    )
    assert str(stopped.value) == message
    run = TestRun.objects.get()
    assert (run.status, run.message) == (RunStatus.ERROR, message)
    assert not UnitTestResult.objects.exists()


def test_an_entity_that_fails_midway_is_rolled_back_not_half_loaded(
    mapped, etl, ba, tmp_path, demo_mart_file
):
    # Given a Mart where one customer's creation time is not a timestamp (SQLite makes it NULL)
    mart = tmp_path / "mart.sqlite3"
    shutil.copy(demo_mart_file, mart)
    db = sqlite3.connect(mart)
    db.execute("UPDATE crm_customer SET created_at = 'yesterday' WHERE customer_id = 1100")
    db.commit()
    db.close()
    target = tmp_path / "t.sqlite3"
    # When the run executes the generated scripts (the Mart copied in batches of 100)
    run = etl_run_execute(
        engagement=mapped,
        options=engine.RunOptions(
            source_url=f"sqlite:///{mart}", target_url=f"sqlite:///{target}", batch_size=100
        ),
        acting_user=etl,
    )
    # Then the customer load fails with the database's reason, as a failing test
    failing = {r.name: r for r in run.results.filter(passed=False)}
    assert failing["customer: load"].actual == (
        "sql/01_customer.sql (customer) failed and was rolled back: NOT NULL constraint failed: "
        "if_customer.created_at"
    )
    # And the required-column test shows the row at fault
    assert failing["customer.created_at: required"].sample_rows == [
        {"customer_id": "1100", "created_at": None}
    ]
    # And the customer table is left as it was: empty, not half loaded
    db = sqlite3.connect(target)
    assert db.execute("SELECT COUNT(*) FROM if_customer").fetchone() == (0,)
    db.close()


def test_an_unreachable_source_stops_the_run_with_a_clear_message(mapped, etl, tmp_path):
    with pytest.raises(JobError) as stopped:
        _run(
            mapped,
            etl,
            "postgresql+psycopg://nobody@127.0.0.1:1/none",
            f"sqlite:///{tmp_path}/t.db",
        )
    assert str(stopped.value).startswith("Could not connect to the source database: ")
    assert TestRun.objects.get().status == RunStatus.ERROR


def test_a_run_of_a_mapping_that_does_not_validate_is_refused(published, engagement, etl, tmp_path):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        _run(engagement, etl, "sqlite:///x.db", f"sqlite:///{tmp_path}/t.db")
    assert refused.value.messages == ["Nothing is mapped yet: prepare and write the mapping first."]


def test_a_rule_that_no_longer_validates_leaves_its_entity_out(mapped, ba, etl):
    # Given a filter broken behind the services' back (e.g. a catalog column dropped later)
    entity = EntityMapping.objects.get(engagement=mapped, entity_name="campaign")
    entity.filter = "m.no_such_column = 1"
    entity.save()
    plan = build_plan(engagement=mapped)
    assert plan.entity("campaign").skipped == (
        "Its filter does not validate: The table mkt_campaign has no column 'no_such_column'. "
        "(line 1, column 1)"
    )
    assert "campaign" not in plan.load_order


@pytest.mark.postgres
def test_runs_on_postgresql_in_the_database_and_streamed(
    require_postgres, mapped, etl, tmp_path, demo_mart_file
):
    engine_pg = sa.create_engine(PG_URL)
    mart, interface = unique_schema("etl_mart"), unique_schema("etl_if")
    try:
        copy_mart(demo_mart_file, engine_pg, mart)
        expected = expected_rows(demo_mart_file, unicode_case=False)  # SQLite rules
        # Same database, two schemas: INSERT … SELECT inside PostgreSQL
        run = _run(mapped, etl, PG_URL, PG_URL, source_schema=mart, target_schema=interface)
        assert run.status == RunStatus.PASSED, list(
            run.results.filter(passed=False).values_list("name", "actual")
        )
        assert run.entity_rows == {entity: len(v) for entity, v in expected.items()}
        # SQLite source streamed into PostgreSQL (tables exist with the same shape: reloaded)
        run = _run(
            mapped,
            etl,
            f"sqlite:///{demo_mart_file}",
            PG_URL,
            target_schema=interface,
            batch_size=500,
        )
        failing = list(run.results.filter(passed=False).values_list("name", "actual"))
        # SQLite lower-cases ASCII only: e-mails with accented capitals differ from PostgreSQL's
        assert run.entity_rows == {entity: len(v) for entity, v in expected.items()}
        assert all(name.endswith("field values") for name, _ in failing) or not failing
    finally:
        drop_schema(engine_pg, mart)
        drop_schema(engine_pg, interface)
        engine_pg.dispose()


def test_a_run_whose_source_is_the_apps_database_is_refused(
    mapped, etl, tmp_path, app_sqlite_database
):
    # Given an ETL developer who names the app's own database as the sample Mart
    app_db = f"sqlite:///{app_sqlite_database}"
    refusal = "This URL points at the workbench's own database; a Mart must be a separate database."

    # When the run is queued, then the source URL is refused on its field
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        etl_run_start(
            engagement=mapped,
            source_url=app_db,
            target_url=f"sqlite:///{tmp_path}/t.db",
            acting_user=etl,
        )
    assert refused.value.message_dict == {"source_url": [refusal]}
    # and from the command line it is one line, with no run stored
    with pytest.raises(CommandError) as failed:
        _cli("--engagement", mapped.slug, "--as", "etl", "--source", app_db, "--target", app_db)
    assert str(failed.value) == refusal
    assert not TestRun.objects.exists()


def test_an_entity_its_target_cannot_express_is_refused_by_name_not_loaded(
    mapped, etl, tmp_path, demo_mart_file, monkeypatch
):
    """A rule sqlglot cannot render for the target's dialect is never loaded as something else:
    the run leaves its entity out and says which rule and why (as generate_etl does)."""
    from exports.services import testrun as service

    def plan_with_an_inexpressible_rule(*, engagement):
        plan = build_plan(engagement=engagement)
        column = next(c for c in plan.entity("campaign").columns if c.attribute.name == "name")
        column.inexpressible["sqlite"] = "FANCY_FUNCTION has no SQLite counterpart"
        return plan

    monkeypatch.setattr(service, "build_plan", plan_with_an_inexpressible_rule)
    database = tmp_path / "target.sqlite3"

    run = _run(mapped, etl, f"sqlite:///{demo_mart_file}", f"sqlite:///{database}")

    assert run.skipped["campaign"] == (
        "The rule of campaign.name cannot be expressed in sqlite: FANCY_FUNCTION has no SQLite "
        "counterpart"
    )
    assert "campaign" not in run.entity_rows


@pytest.mark.postgres
def test_a_postgresql_merge_gives_the_planner_its_stages_real_size(
    require_postgres, mapped, demo_mart_file
):
    """PostgreSQL never gathers a temporary table's statistics by itself: the merge analyzes its
    stage before joining it, so a stage of a million rows is not planned as a few (its new keys
    looked up one by one in the table's index)."""
    from exports.etl.scripts import CREATE, LOAD, etl_scripts

    pg = sa.create_engine(PG_URL)
    mart, interface = unique_schema("stage_mart"), unique_schema("stage_if")
    try:
        copy_mart(demo_mart_file, pg, mart)
        scripts = etl_scripts(
            build_plan(engagement=mapped), "postgres", target_schema=interface, source_schema=mart
        )
        with pg.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{interface}"')
            for script in scripts:
                if script.phase == CREATE:
                    for _step, text in script.sql("postgres"):
                        conn.exec_driver_sql(text)
        sized = {}
        for script in [s for s in scripts if s.phase == LOAD]:
            steps = script.sql("postgres")
            if "analyze_stage" not in [step for step, _text in steps]:
                continue
            with pg.begin() as conn:
                for step, text in steps:
                    conn.exec_driver_sql(text.replace("%", "%%"))
                    if step == "analyze_stage":
                        stage = f"stage_{script.entity.table}"
                        known, rows = conn.exec_driver_sql(
                            f"SELECT (SELECT reltuples FROM pg_class WHERE oid = "
                            f"'{stage}'::regclass), (SELECT count(*) FROM {stage})"
                        ).one()
                        sized[script.entity.name] = (known, rows)
        assert sized, "the demo mapping merges at least one entity"
        assert all(known == rows > 0 for known, rows in sized.values()), sized
    finally:
        drop_schema(pg, mart)
        drop_schema(pg, interface)
        pg.dispose()
