from django.core.management.base import CommandError

from workbench import services
from workbench.choices import TOKEN_MAX_DAYS, TokenLifetime
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Create an API token for a user and print its key (shown only this once; the database "
        "keeps its hash). Users can also create and revoke their own tokens on the API tokens page."
    )
    needs_engagement = False

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="what will use the token")
        parser.add_argument(
            "--days",
            type=int,
            default=TokenLifetime.DAYS_90.value,
            help=f"days until the token expires (1 to {TOKEN_MAX_DAYS}; default 90)",
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        if not options.get("as_user"):
            raise CommandError("Name the token's owner with --as USER.")
        user = self.acting_user(options)
        token, key = services.token_create(
            name=options["name"], days=options["days"], acting_user=user
        )
        data = {
            "user": user.username,
            "name": token.name,
            "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat(),
            "key": key,
        }
        text = (
            f"{key}\n"
            f"Token “{token.name}” of {user.username}, expires {token.expires_at:%Y-%m-%d %H:%M} "
            "UTC. The key is shown only this once."
        )
        self.report(options, data, text)
