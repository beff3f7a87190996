from workbench import services
from workbench.choices import LinkKind
from workbench.management.args import choice_value
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Add a reference link (Mart documentation, sample data access, interface ERD, other). "
        "An Implementation Lead, Tech BA or ETL Developer may."
    )

    def add_arguments(self, parser):
        kinds = ", ".join(LinkKind.values)
        parser.add_argument(
            "kind", metavar="KIND", help=f"{kinds} (or the label, e.g. 'Interface ERD')"
        )
        parser.add_argument("url", metavar="URL", help="where the document lives")
        parser.add_argument("--title", default="", help="what people see (default: the kind)")
        parser.add_argument("--notes", default="", help="anything to know before opening it")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        kind = choice_value(LinkKind, options["kind"], "link kind")
        link = services.link_create(
            engagement=engagement,
            data={
                "kind": kind,
                "title": options["title"].strip() or LinkKind(kind).label,
                "url": options["url"].strip(),
                "notes": options["notes"].strip(),
            },
            acting_user=user,
        )
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "id": link.pk,
                "kind": link.kind,
                "title": link.title,
                "url": link.url,
            },
            f"added {link.get_kind_display()} link '{link.title}' to {engagement.slug}",
        )
