"""manage.py introspect_mart --engagement SLUG --url URL [--schema S]... [--profile]"""

from __future__ import annotations

from django.core.management.base import CommandError

from catalog.models import SourceSystem
from catalog.services import sources as services
from catalog.services.connection import split_url
from catalog.services.profiling import DEFAULT_SAMPLE_ROWS, catalog_profile
from workbench.jobs import JobError
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Catalog (and optionally profile) a Mart reachable by a SQLAlchemy URL. Reads only; the "
        "URL's password is stored encrypted. Re-running refreshes the catalog and keeps notes. "
        "JSON keys: engagement, source {id, name, url (no password)}, tables, columns, "
        "foreign_keys, changed, changes {kind: count}, profiled_tables (null without --profile)."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--url",
            required=True,
            help="SQLAlchemy URL of the Mart, e.g. postgresql+psycopg://user:pw@host/db",
        )
        parser.add_argument(
            "--schema",
            action="append",
            default=None,
            help="schema to catalog; repeat for several. The source's other schemas are kept "
            "(default: every schema the source covers, else the database's default schema)",
        )
        parser.add_argument(
            "--name",
            default="",
            help="name of the source system (default: the engagement's Mart name)",
        )
        parser.add_argument(
            "--password-env",
            default="",
            help="environment variable holding the password, instead of one in the URL",
        )
        parser.add_argument(
            "--profile", action="store_true", help="also profile every table on sample data"
        )
        parser.add_argument(
            "--sample-rows",
            type=int,
            default=DEFAULT_SAMPLE_ROWS,
            help="rows sampled per table when profiling",
        )

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        bare = split_url(options["url"]).url
        source = SourceSystem.objects.filter(engagement=engagement, url=bare).first()
        if source is None:
            name = options["name"] or engagement.mart_name or "Marketing Data Mart"
            if SourceSystem.objects.filter(engagement=engagement, name=name).exists():
                name = f"{name} ({bare.split('://')[0]})"
            source = services.source_system_create(
                engagement=engagement,
                name=name,
                url=options["url"],
                password_env=options["password_env"],
                schemas=options["schema"] or [],
                acting_user=user,
            )
        else:
            data = {"url": options["url"]}
            if options["password_env"]:
                data["password_env"] = options["password_env"]
            services.source_system_update(source=source, data=data, acting_user=user)
        try:
            result = services.catalog_introspect(
                source=source, acting_user=user, schemas=options["schema"]
            )
            profiled = (
                catalog_profile(source=source, acting_user=user, sample_rows=options["sample_rows"])
                if options["profile"]
                else None
            )
        except JobError as exc:
            raise CommandError(str(exc)) from None
        counts = result["diff"]["counts"]
        lines = [
            f"cataloged {result['tables']} tables, {result['columns']} columns, "
            f"{result['foreign_keys']} foreign keys"
        ]
        if result["diff"]["changed"]:
            changes = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items() if n)
            lines.append(f"changes since the last refresh: {changes}")
        if profiled is not None:
            lines.append(f"profiled {profiled['tables']} tables")
        data = {
            "engagement": engagement.slug,
            "source": {"id": source.pk, "name": source.name, "url": bare},
            "tables": result["tables"],
            "columns": result["columns"],
            "foreign_keys": result["foreign_keys"],
            "changed": bool(result["diff"]["changed"]),
            "changes": counts,
            "profiled_tables": profiled["tables"] if profiled is not None else None,
        }
        self.report(options, data, "\n".join(lines))
