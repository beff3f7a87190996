from django.db import transaction

from mappings.choices import SmeReview
from mappings.models import AttributeMapping
from mappings.services import mapping as services
from workbench.management.args import choice_value
from workbench.management.base import WorkbenchCommand

from ._targets import mapping_targets, target_label


class Command(WorkbenchCommand):
    help = (
        "The Client SME's review of attribute mappings: agree with the rule of ENTITY.ATTRIBUTE "
        "(or of every attribute, ENTITY.*), or raise a query (--comment holds the question). "
        "JSON: {engagement, state, set: [target…]}."
    )

    def add_arguments(self, parser):
        parser.add_argument("target", metavar="TARGET", help="ENTITY.ATTRIBUTE or ENTITY.*")
        parser.add_argument("state", metavar="STATE", help="agreed or query_raised (or the label)")
        parser.add_argument("--comment", default="", help="the query, or a remark")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        state = choice_value(SmeReview, options["state"], "review state")
        targets = mapping_targets(engagement, options["target"], entity_allowed=False)
        with transaction.atomic():  # every target or none
            for mapping in targets:
                assert isinstance(mapping, AttributeMapping)  # entity_allowed=False
                services.sme_review_set(
                    attribute_mapping=mapping,
                    state=state,
                    comment=options["comment"],
                    acting_user=user,
                )
        labels = [target_label(m) for m in targets]
        self.report(
            options,
            {"engagement": engagement.slug, "state": state, "set": labels},
            f"{SmeReview(state).label} on {len(labels)} attribute(s): {', '.join(labels)}",
        )
