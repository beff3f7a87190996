from django.core.management.base import CommandError

from catalog.services import sources as services
from workbench.management.args import USAGE
from workbench.management.base import WorkbenchCommand

from ._tables import add_table_arguments, find_table

# option -> CatalogTable field (catalog.services.sources.UNDERSTANDING_FIELDS)
FIELDS = {
    "subject_area": "subject area, e.g. customer (stored in lower case)",
    "grain": "what one row stands for, e.g. 'one row per customer'",
    "derivation_notes": "derivations the Mart already does",
    "gap_notes": "where the Mart falls short of the canonical meaning",
    "notes": "anything else about the table",
}


class Command(WorkbenchCommand):
    help = (
        "Record the source understanding of one cataloged table: subject area, grain, existing "
        "derivations, gaps, notes. Only the options given change; an empty value clears. An "
        "Implementation Lead, Tech BA or ETL Developer may."
    )

    def add_arguments(self, parser):
        add_table_arguments(parser)
        for field, text in FIELDS.items():
            parser.add_argument(
                f"--{field.replace('_', '-')}", dest=field, metavar="TEXT", default=None, help=text
            )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        data = {field: options[field] for field in FIELDS if options[field] is not None}
        if not data:
            raise CommandError(
                "Say what to record: --subject-area, --grain, --derivation-notes, --gap-notes or "
                "--notes.",
                returncode=USAGE,
            )
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        table = find_table(
            engagement=engagement, user=user, typed=options["table"], source=options["source"]
        )
        table = services.table_understanding_update(table=table, data=data, acting_user=user)
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "table": table.qualified_name,
                "source": table.source.name,
                **{field: getattr(table, field) for field in FIELDS},
            },
            f"{table.qualified_name}: subject area '{table.subject_area}', grain '{table.grain}'",
        )
