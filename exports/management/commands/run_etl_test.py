"""manage.py run_etl_test --engagement SLUG --source URL --target URL [-o DIR]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from exports.services import testrun as services
from exports.testrun.engine import RunOptions
from exports.testrun.package import number_cases, package_markdown, package_xlsx
from exports.testrun.reconciliation import reconciliation_csv, reconciliation_markdown
from workbench.jobs import JobError
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Load the interface tables from sample data (source and target are SQLAlchemy URLs; "
        "they may be the same database) and run the unit tests. Exits 0 only when every test "
        "passes. A SQLite URL must name an existing file. JSON keys: engagement, run, status, "
        "dialect, passed, tests_total, tests_passed, tests_failed, rows_loaded, entity_rows, "
        "skipped, results [{name, type, entity, attribute, passed, expected, actual}], "
        "reconciliation (per entity source vs target rows, inserted/updated/deleted, tests, "
        "timings), packages (paths written with -o: the Unit Test Package and the reconciliation "
        "report as CSV and Markdown)."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--source", required=True, metavar="URL", help="SQLAlchemy URL of the sample Mart"
        )
        parser.add_argument(
            "--target", required=True, metavar="URL", help="SQLAlchemy URL of the target"
        )
        parser.add_argument("--source-schema", default=None, help="schema of the Mart tables")
        parser.add_argument("--target-schema", default=None, help="schema for the interface tables")
        parser.add_argument(
            "-o",
            "--output",
            metavar="DIR",
            help="write the Unit Test Package (xlsx, md) and the reconciliation report (csv, md) here",
        )

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        try:
            run = services.etl_run_execute(
                engagement=engagement,
                options=RunOptions(
                    source_url=options["source"],
                    target_url=options["target"],
                    source_schema=options["source_schema"],
                    target_schema=options["target_schema"],
                ),
                acting_user=user,
            )
        except JobError as exc:
            raise CommandError(str(exc)) from None
        packages = self._packages(run, options["output"]) if options["output"] else []
        failures = list(run.results.filter(passed=False)[:50])
        for result in failures:
            self.stderr.write(
                f"FAIL {result.name}: expected {result.expected}, got {result.actual}"
            )
        self.report(options, self._data(engagement, run, packages), run.summary)
        if run.tests_failed:
            raise CommandError(f"{run.tests_failed} of {run.tests_total} unit tests failed.")

    def _packages(self, run, folder: str) -> list[str]:
        """Write the Unit Test Package (xlsx and Markdown) and the reconciliation report (CSV and
        Markdown) into `folder`; return their paths."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        xlsx = out / f"unit_test_package_run_{run.pk}.xlsx"
        markdown = out / f"unit_test_package_run_{run.pk}.md"
        xlsx.write_bytes(package_xlsx(run))
        markdown.write_text(package_markdown(run), encoding="utf-8")
        written = [xlsx, markdown]
        if run.reconciliation:
            title = f"Reconciliation of test run #{run.pk} — {run.engagement.name}"
            report = {
                out / f"reconciliation_run_{run.pk}.csv": reconciliation_csv(run.reconciliation),
                out / f"reconciliation_run_{run.pk}.md": reconciliation_markdown(
                    run.reconciliation, title=title
                ),
            }
            for path, text in report.items():
                path.write_text(text, encoding="utf-8")
            written += list(report)
        return [str(path) for path in written]

    def _data(self, engagement, run, packages: list[str]) -> dict:
        return {
            "engagement": engagement.slug,
            "run": run.pk,
            "status": run.status,
            "dialect": run.dialect,
            "passed": run.tests_failed == 0,
            "tests_total": run.tests_total,
            "tests_passed": run.tests_total - run.tests_failed,
            "tests_failed": run.tests_failed,
            "rows_loaded": run.rows_loaded,
            "entity_rows": run.entity_rows,
            "skipped": run.skipped,
            "reconciliation": run.reconciliation,
            "results": [
                {
                    "id": r.case_id,
                    "name": r.name,
                    "type": r.test_type,
                    "entity": r.entity_name,
                    "attribute": r.attribute_name or None,
                    "passed": r.passed,
                    "expected": r.expected,
                    "actual": r.actual,
                }
                for r in number_cases(run.results.order_by("position"))
            ],
            "packages": packages,
        }
