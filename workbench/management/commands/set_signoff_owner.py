from workbench import services
from workbench.choices import SignoffGate
from workbench.management.args import choice_value
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Name (or replace) the owner of a sign-off: mapping (a Client SME) or etl (a Client SME, "
        "Client Ops or Implementation Lead; decides the UAT gate). A review of a gate can be "
        "requested only once its owner is named. Only an Implementation Lead may."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "gate",
            metavar="GATE",
            help="one of: " + ", ".join(f"{v} ({label})" for v, label in SignoffGate.choices),
        )
        parser.add_argument("user", metavar="USER", help="username of the member to name")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        gate = choice_value(SignoffGate, options["gate"], "sign-off")
        owner = services.signoff_owner_set(
            engagement=engagement,
            gate=gate,
            username=options["user"],
            acting_user=self.acting_user(options, engagement),
        )
        self.report(
            options,
            {"engagement": engagement.slug, "gate": gate, "owner": owner.user.username},
            f"{owner.user.username} owns the {SignoffGate(gate).label} of {engagement.slug}",
        )
