from catalog.services import sources as services
from workbench.management.base import WorkbenchCommand

from ._tables import add_table_arguments, find_table


class Command(WorkbenchCommand):
    help = (
        "Link a cataloged table to the interface entity it will feed (a draft of the impacted "
        "entities; once a contract is published the entity must be one of its). An "
        "Implementation Lead, Tech BA or ETL Developer may."
    )

    def add_arguments(self, parser):
        add_table_arguments(parser)
        parser.add_argument("entity", metavar="ENTITY", help="the interface entity, e.g. Customer")
        parser.add_argument("--note", default="", help="why this table feeds it (one line)")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        table = find_table(
            engagement=engagement, user=user, typed=options["table"], source=options["source"]
        )
        link = services.impacted_entity_add(
            table=table, entity_name=options["entity"], note=options["note"], acting_user=user
        )
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "id": link.pk,
                "table": table.qualified_name,
                "source": table.source.name,
                "entity": link.entity_name,
                "note": link.note,
            },
            f"{table.qualified_name} feeds {link.entity_name}",
        )
