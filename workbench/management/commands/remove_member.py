from django.core.management.base import CommandError

from workbench import services
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = "Remove a member from the engagement (the user account stays). Only an Implementation Lead may."

    def add_arguments(self, parser):
        parser.add_argument("user", metavar="USER", help="username of the member to remove")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        membership = (
            engagement.memberships.filter(user__username=options["user"])
            .select_related("user", "engagement")
            .first()
        )
        if membership is None:
            raise CommandError(f"'{options['user']}' is not a member of {engagement.slug}.")
        role = membership.get_role_display()
        services.membership_remove(membership=membership, acting_user=user)
        self.report(
            options,
            {"engagement": engagement.slug, "user": options["user"], "removed": True},
            f"removed {options['user']} ({role}) from {engagement.slug}",
        )
