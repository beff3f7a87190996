from django.db import transaction

from mappings.choices import Feasibility
from mappings.services import mapping as services
from workbench.management.args import choice_value
from workbench.management.base import WorkbenchCommand

from ._targets import mapping_targets, target_label


class Command(WorkbenchCommand):
    help = (
        "The ETL Developer's feasibility verdict on an entity mapping (ENTITY), one attribute "
        "(ENTITY.ATTRIBUTE) or every attribute of an entity (ENTITY.*). 'Concerns' and 'Not "
        "feasible' need --comment saying why. JSON: {engagement, verdict, set: [target…]}."
    )

    def add_arguments(self, parser):
        parser.add_argument("target", metavar="TARGET", help="ENTITY, ENTITY.ATTRIBUTE or ENTITY.*")
        parser.add_argument(
            "verdict", metavar="VERDICT", help="feasible, concerns, not_feasible (or the label)"
        )
        parser.add_argument("--comment", default="", help="why (required for concerns)")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        verdict = choice_value(Feasibility, options["verdict"], "verdict")
        targets = mapping_targets(engagement, options["target"], entity_allowed=True)
        with transaction.atomic():  # every target or none
            for mapping in targets:
                services.feasibility_set(
                    mapping=mapping, verdict=verdict, comment=options["comment"], acting_user=user
                )
        labels = [target_label(m) for m in targets]
        self.report(
            options,
            {"engagement": engagement.slug, "verdict": verdict, "set": labels},
            f"{Feasibility(verdict).label} on {len(labels)} mapping(s): {', '.join(labels)}",
        )
