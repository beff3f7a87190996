from django.core.management.base import BaseCommand

from workbench.choices import Role
from workbench.demo import DEMO_PASSWORD, DEMO_USERS, load_demo


class Command(BaseCommand):
    help = "Load (or refresh, idempotently) the demo engagement and a demo user for every role."

    def handle(self, *args, **options):
        engagement = load_demo()
        self.stdout.write(f"demo engagement: {engagement.name} ({engagement.slug})")
        self.stdout.write(f"demo users (password for all: {DEMO_PASSWORD}):")
        roles = dict(engagement.memberships.values_list("user__username", "role"))
        for username, full_name, _role in DEMO_USERS:
            role = roles.get(username)
            self.stdout.write(
                f"  {username:<9} {full_name:<17} {Role(role).label if role else 'not a member'}"
            )
