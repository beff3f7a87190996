from workbench import policy, selectors
from workbench.choices import Role
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = "List the engagements the acting user can see, with their role in each."
    needs_engagement = False

    def handle(self, *args, **options):
        user = self.acting_user(options)
        rows = []
        for engagement in selectors.with_current_phase(selectors.engagement_list(user=user)):
            role = policy.role_of(user, engagement)
            rows.append(
                {
                    "slug": engagement.slug,
                    "name": engagement.name,
                    "client": engagement.client,
                    "status": engagement.status,
                    # as the dashboard shows it: derived, unless a Lead set it by hand
                    "current_phase": int(engagement.phase.phase),  # type: ignore[attr-defined]
                    "phase_overridden": engagement.phase.overridden,  # type: ignore[attr-defined]
                    "role": role,
                    "role_label": Role(role).label if role else None,
                    "members": engagement.member_count,  # type: ignore[attr-defined]  # annotated
                }
            )
        self.report(
            options,
            {"user": user.username, "engagements": rows},
            lambda: (
                "\n".join(
                    f"{r['slug']:<24} {r['name']:<32} {r['status']:<14} phase {r['current_phase']}"
                    f"{'*' if r['phase_overridden'] else ' '} {r['role_label'] or ''}".rstrip()
                    for r in rows
                )
                or f"{user.username} is not a member of any engagement"
            ),
        )
