from django.core.management.base import CommandError

from signoff import selectors, services
from signoff.choices import OPEN_REVIEW_STATES, Verdict
from signoff.models import ReviewRequest
from workbench import policy
from workbench.management.args import USAGE, record_id
from workbench.management.base import WorkbenchCommand
from workbench.policy import Action

from ._common import GATE_HELP, gate_value, review_data


class Command(WorkbenchCommand):
    help = (
        "Approve or reject a review: its number as list_reviews shows it, or --gate G for the "
        "gate's open review (a script need not read the number first). The gate's named "
        "owner decides the mapping and UAT sign-offs, an Implementation Lead the cutover; a "
        "rejection needs a comment."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "review", metavar="REVIEW", nargs="?", help="the review's number, e.g. 7 or #7"
        )
        parser.add_argument("--gate", help=f"instead of REVIEW: the open review of {GATE_HELP}")
        verdict = parser.add_mutually_exclusive_group(required=True)
        verdict.add_argument("--approve", action="store_true", help="approve the version")
        verdict.add_argument("--reject", action="store_true", help="send it back for changes")
        parser.add_argument("--comment", default="", help="why (required with --reject)")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        policy.check(user, engagement, Action.VIEW)
        review = self.review(engagement, options)
        verdict = Verdict.APPROVE if options["approve"] else Verdict.REJECT
        decision = services.do_decide(
            review=review, verdict=verdict, comment=options["comment"], acting_user=user
        )
        review = selectors.review_list(engagement=engagement).get(pk=review.pk)
        self.report(
            options,
            {"engagement": engagement.slug, "review": review_data(review)},
            f"review #{review.pk}: {review.get_gate_display()} of version "
            f"{review.version.number} {decision.get_verdict_display().lower()} by {user.username}",
        )

    def review(self, engagement, options) -> ReviewRequest:
        reviews = selectors.review_list(engagement=engagement)
        if options["review"] and options["gate"]:
            raise CommandError("Name the review or --gate, not both.", returncode=USAGE)
        if options["gate"]:
            gate = gate_value(options["gate"])
            review = reviews.filter(gate=gate, state__in=OPEN_REVIEW_STATES).first()
            if review is None:
                raise CommandError(f"{engagement.slug} has no open review at the {gate} gate.")
            return review
        if not options["review"]:
            raise CommandError("Name the review (REVIEW) or --gate.", returncode=USAGE)
        number = record_id(options["review"], "review")
        review = reviews.filter(pk=number).first()
        if review is None:
            raise CommandError(
                f"{engagement.slug} has no review #{number}; list_reviews shows them."
            )
        return review
