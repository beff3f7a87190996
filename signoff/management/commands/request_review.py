from signoff import services
from workbench.management.base import WorkbenchCommand

from ._common import GATE_HELP, gate_value, review_data


class Command(WorkbenchCommand):
    help = (
        "Submit the mapping for review at a gate: freeze it as the next spec version (or reuse "
        "the latest when nothing changed) and ask the gate's approver. An Implementation Lead "
        "or Tech BA may."
    )

    def add_arguments(self, parser):
        parser.add_argument("--gate", required=True, help=GATE_HELP)
        parser.add_argument("--comment", default="", help="a message to the approver")
        parser.add_argument(
            "--entity",
            dest="entities",
            action="append",
            metavar="ENTITY",
            help="review only this entity (repeat for several; default: the whole mapping)",
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        review = services.do_submit_for_review(
            engagement=engagement,
            gate=gate_value(options["gate"]),
            acting_user=user,
            entities=options["entities"],
            message=options["comment"],
        )
        deciders = [u.username for u in services.gate_deciders(engagement, review.gate)]
        self.report(
            options,
            {"engagement": engagement.slug, "review": review_data(review), "deciders": deciders},
            f"review #{review.pk} requested: {review.get_gate_display()} of version "
            f"{review.version.number} (hash {review.version.short_hash}); "
            f"decided by {', '.join(deciders) or 'nobody yet'}",
        )
