from signoff import selectors
from signoff.choices import OPEN_REVIEW_STATES
from workbench import policy
from workbench.management.base import WorkbenchCommand
from workbench.policy import Action

from ._common import GATE_HELP, gate_value, review_data, review_line


class Command(WorkbenchCommand):
    help = "List the engagement's reviews, newest first, with their number for decide_review."

    def add_arguments(self, parser):
        parser.add_argument("--gate", help=f"only this gate: {GATE_HELP}")
        parser.add_argument("--open", action="store_true", help="only reviews not decided yet")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        policy.check(self.acting_user(options, engagement), engagement, Action.VIEW)
        gate = gate_value(options["gate"]) if options["gate"] else None
        reviews = selectors.review_list(engagement=engagement, gate=gate).order_by(
            "-requested_at", "-id"
        )
        if options["open"]:
            reviews = reviews.filter(state__in=OPEN_REVIEW_STATES)
        reviews = list(reviews)
        self.report(
            options,
            {"engagement": engagement.slug, "reviews": [review_data(r) for r in reviews]},
            lambda: "\n".join(review_line(r) for r in reviews) or "no reviews",
        )
