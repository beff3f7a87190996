from workbench import services
from workbench.choices import SignoffGate
from workbench.management.args import choice_value
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Name (or replace) the owner of a sign-off gate: a member in an eligible role (mapping: "
        "a Client SME; etl: a Client SME, Client Ops or Implementation Lead). An Implementation "
        "Lead may."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "gate", metavar="GATE", help="mapping or etl (or the label, e.g. 'Mapping sign-off')"
        )
        parser.add_argument("user", metavar="USER", help="username of the member who signs off")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        owner = services.signoff_owner_set(
            engagement=engagement,
            gate=choice_value(SignoffGate, options["gate"], "sign-off gate"),
            username=options["user"],
            acting_user=user,
        )
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "gate": owner.gate,
                "gate_label": owner.get_gate_display(),
                "owner": owner.user.username,
            },
            f"{owner.get_gate_display()} owner of {engagement.slug}: {owner.user.username}",
        )
