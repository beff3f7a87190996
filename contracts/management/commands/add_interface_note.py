from contracts import services
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Write an Interface Understanding Note on an entity of the contract (the published "
        "version, else the newest draft), or on one of its attributes. An Implementation Lead, "
        "Tech BA or ETL Developer may."
    )

    def add_arguments(self, parser):
        parser.add_argument("entity", metavar="ENTITY", help="the interface entity, e.g. Customer")
        parser.add_argument("text", metavar="TEXT", help="the note")
        parser.add_argument("--attribute", default="", help="the attribute the note is about")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        note = services.note_create(
            engagement=engagement,
            entity_name=options["entity"].strip(),
            attribute_name=options["attribute"].strip(),
            text=options["text"],
            acting_user=user,
        )
        target = (
            f"{note.entity_name}.{note.attribute_name}" if note.attribute_name else note.entity_name
        )
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "id": note.pk,
                "entity": note.entity_name,
                "attribute": note.attribute_name or None,
                "text": note.text,
                "author": user.username,
            },
            f"note #{note.pk} on {target} by {user.username}",
        )
