from django.core.management.base import CommandError

from signoff import services
from signoff.choices import UatState
from signoff.models import UatItem
from workbench import policy
from workbench.management.args import record_id
from workbench.management.base import WorkbenchCommand
from workbench.policy import Action


class Command(WorkbenchCommand):
    help = (
        "Close a UAT feedback item with how it was resolved (its number as raise_uat printed "
        "it). The item's owner, a Tech BA or a Client SME may."
    )

    def add_arguments(self, parser):
        parser.add_argument("item", metavar="ITEM", help="the item's number, e.g. 12 or #12")
        parser.add_argument(
            "--resolution", required=True, help="how it was resolved, e.g. 'mapping corrected'"
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        policy.check(user, engagement, Action.VIEW)
        number = record_id(options["item"], "UAT item")
        item = UatItem.objects.filter(engagement=engagement, pk=number).first()
        if item is None:
            raise CommandError(f"{engagement.slug} has no UAT item #{number}.")
        item = services.do_resolve_uat_item(
            item=item, resolution=options["resolution"], acting_user=user
        )
        open_items = UatItem.objects.filter(engagement=engagement, state=UatState.OPEN).count()
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "id": item.pk,
                "target": item.target,
                "state": item.state,
                "resolution": item.resolution,
                "resolved_by": user.username,
                "open_items": open_items,
            },
            f"UAT item #{item.pk} on {item.target} resolved by {user.username}; "
            f"{open_items} still open",
        )
