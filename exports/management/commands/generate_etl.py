"""manage.py generate_etl --engagement SLUG --dialect D -o DIR"""

from __future__ import annotations

from django.core.management.base import CommandError

from exports.etl.sql import DIALECTS
from exports.services import etl as services
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Write the ETL artifacts generated from the mapping: manifest.json, sql/ (interface DDL "
        "and one INSERT … SELECT per entity in load order), a dbt project, an Airflow DAG, the "
        "job design document and the unit-test queries. JSON keys: engagement, output, dialect, "
        "files (paths under the output folder), load_order, skipped {entity: reason}, contract "
        "{name, version}, spec_version, content_hash, approved (as in manifest.json). Exits 1 "
        "when an entity is not generated (e.g. a rule the dialect cannot express), naming it."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--dialect", required=True, choices=DIALECTS, help="SQL dialect of the target engine"
        )
        parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        manifest = services.etl_generate(
            engagement=engagement,
            dialect=options["dialect"],
            out=options["output"],
            acting_user=user,
        )
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "output": options["output"],
                "dialect": manifest["dialect"],
                "files": ["manifest.json", *manifest["files"]],
                "load_order": manifest["load_order"],
                "skipped": manifest["skipped"],
                "contract": manifest["contract"],
                "spec_version": manifest["spec_version"],
                "content_hash": manifest["content_hash"],
                "approved": manifest["approved"],
            },
            f"wrote {len(manifest['files']) + 1} files to {options['output']} "
            f"({options['dialect']}; load order: {', '.join(manifest['load_order'])})",
        )
        for entity, reason in manifest["skipped"].items():
            self.stderr.write(f"not generated: {entity}: {reason}")
        if manifest["skipped"]:
            # the artifacts on disk are incomplete: say so in the exit status
            raise CommandError(
                f"Incomplete ({options['dialect']}): not generated: "
                + ", ".join(manifest["skipped"])
                + "."
            )
