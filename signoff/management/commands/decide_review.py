from django.core.management.base import CommandError

from signoff import selectors, services
from signoff.choices import Verdict
from workbench import policy
from workbench.management.args import record_id
from workbench.management.base import WorkbenchCommand
from workbench.policy import Action

from ._common import review_data


class Command(WorkbenchCommand):
    help = (
        "Approve or reject a review (its number as list_reviews shows it). The gate's named "
        "owner decides the mapping and UAT sign-offs, an Implementation Lead the cutover; a "
        "rejection needs a comment."
    )

    def add_arguments(self, parser):
        parser.add_argument("review", metavar="REVIEW", help="the review's number, e.g. 7 or #7")
        verdict = parser.add_mutually_exclusive_group(required=True)
        verdict.add_argument("--approve", action="store_true", help="approve the version")
        verdict.add_argument("--reject", action="store_true", help="send it back for changes")
        parser.add_argument("--comment", default="", help="why (required with --reject)")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        policy.check(user, engagement, Action.VIEW)
        number = record_id(options["review"], "review")
        review = selectors.review_list(engagement=engagement).filter(pk=number).first()
        if review is None:
            raise CommandError(
                f"{engagement.slug} has no review #{number}; list_reviews shows them."
            )
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
