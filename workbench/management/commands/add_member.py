import os

from django.contrib.auth.models import User
from django.core.management.base import CommandError

from workbench import policy, services
from workbench.choices import Role
from workbench.management.args import USAGE, choice_value
from workbench.management.base import WorkbenchCommand
from workbench.policy import Action


class Command(WorkbenchCommand):
    help = (
        "Add a user to the engagement with a role (as stored, e.g. tech_ba, or its label, e.g. "
        "'Tech BA'; Viewer when left out). --create makes the account first: with --email and "
        "--name the person is e-mailed a link to set their password (as on the members page); "
        "with --password-env the password is read from that environment variable instead. "
        "Only an Implementation Lead may."
    )

    def add_arguments(self, parser):
        parser.add_argument("user", metavar="USER", help="username of the member")
        parser.add_argument(
            "role",
            metavar="ROLE",
            nargs="?",
            default=Role.VIEWER.value,
            help="one of: "
            + ", ".join(f"{v} ({label})" for v, label in Role.choices)
            + " (default: viewer)",
        )
        parser.add_argument("--create", action="store_true", help="create the user account first")
        parser.add_argument("--email", default="", help="the new user's e-mail (with --create)")
        parser.add_argument("--name", default="", help="the new user's full name (with --create)")
        parser.add_argument(
            "--password-env",
            dest="password_env",
            metavar="VAR",
            help="the environment variable holding the new user's password (with --create); "
            "a password is never typed on the command line, where others could read it",
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        role = choice_value(Role, options["role"], "role")
        invite = options["create"] and not options["password_env"]
        if invite and not (options["email"] and options["name"]):
            raise CommandError(
                "--create needs --email and --name (the person is e-mailed a link to set their "
                "password) or --password-env VAR.",
                returncode=USAGE,
            )
        if invite:
            membership = services.membership_invite(
                engagement=engagement,
                username=options["user"],
                name=options["name"],
                email=options["email"],
                role=role,
                acting_user=user,
            )
        elif options["create"]:
            membership = services.membership_add_new_user(
                engagement=engagement,
                username=options["user"],
                role=role,
                password=_password(options["password_env"]),
                email=options["email"],
                acting_user=user,
            )
        else:
            if options["email"] or options["password_env"] or options["name"]:
                raise CommandError(
                    "--email, --name and --password-env go with --create.", returncode=USAGE
                )
            policy.check(user, engagement, Action.MANAGE_MEMBERS)
            if not User.objects.filter(username=options["user"], is_active=True).exists():
                raise CommandError(
                    f"There is no active user named '{options['user']}'; "
                    "--create --email ADDRESS --name NAME invites them."
                )
            membership = services.membership_add(
                engagement=engagement, username=options["user"], role=role, acting_user=user
            )
        label = Role(role).label
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "user": membership.user.username,
                "role": role,
                "role_label": label,
                "created": options["create"],
                "invited": invite,
            },
            f"added {membership.user.username} to {engagement.slug} as {label}"
            + (" (new user)" if options["create"] else "")
            + (f"; a link to set a password went to {membership.user.email}" if invite else ""),
        )


def _password(variable: str) -> str:
    password = os.environ.get(variable, "")
    if not password:
        raise CommandError(
            f"The environment variable {variable} is not set or empty; "
            "it must hold the new user's password."
        )
    return password
