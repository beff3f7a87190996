from workbench import policy, selectors
from workbench.management.base import WorkbenchCommand
from workbench.policy import Action


class Command(WorkbenchCommand):
    help = "List the engagement's members and their roles (lead first, viewers last)."

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        policy.check(self.acting_user(options, engagement), engagement, Action.VIEW)
        members = [
            {
                "user": m.user.username,
                "name": m.user.get_full_name(),
                "email": m.user.email,
                "role": m.role,
                "role_label": m.get_role_display(),
            }
            for m in selectors.engagement_members(engagement=engagement)
        ]
        self.report(
            options,
            {"engagement": engagement.slug, "members": members},
            lambda: "\n".join(
                f"{m['user']:<20} {m['role_label']:<20} {m['name']}".rstrip() for m in members
            ),
        )
