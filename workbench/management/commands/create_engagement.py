from workbench import services
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = "Create an engagement; the acting user becomes its Implementation Lead."
    needs_engagement = False

    def add_arguments(self, parser):
        parser.add_argument("slug", help="short name used in URLs, e.g. acme-360")
        parser.add_argument("--name", required=True, help="display name of the engagement")
        parser.add_argument("--client", default="", help="the client's name")
        parser.add_argument(
            "--mart", default="", help="the name of the client's Marketing Data Mart"
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        lead = self.acting_user(options)
        engagement = services.engagement_create(
            slug=options["slug"],
            name=options["name"],
            client=options["client"],
            mart_name=options["mart"],
            acting_user=lead,
        )
        self.report(
            options,
            {
                "slug": engagement.slug,
                "name": engagement.name,
                "lead": lead.username,
            },
            f"created engagement {engagement.slug}: {engagement.name}",
        )
