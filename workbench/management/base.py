"""Base for the workbench's management commands.

Commands act as a named user (`--as USER`, default: the engagement's creator) so history and
permissions hold from the command line too. Exit codes: 0 done, 1 refused or failed (a one-line
reason on stderr), 2 usage error (argparse). `--format json` makes what a command reports one JSON
document on stdout, for scripts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from workbench.models import Engagement
from workbench.uploads import UploadKind, too_large_message


class WorkbenchCommand(BaseCommand):
    needs_engagement = True

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            dest="output_format",
            choices=["text", "json"],
            default="text",
            help="how to print the result: lines for people (text) or one JSON document (json)",
        )
        if self.needs_engagement:
            parser.add_argument(
                "--engagement",
                required=True,
                metavar="SLUG",
                help="slug of the engagement to act on",
            )
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USER",
            help="act as this user (default: the engagement's creator)",
        )

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except ValidationError as exc:
            raise CommandError(" ".join(_flatten(exc))) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "Permission denied.") from exc

    def report(self, options, data: dict[str, Any], text: str | Callable[[], str]) -> None:
        """Print the command's result: `data` as JSON with `--format json`, else the text."""
        if options.get("output_format") == "json":
            self.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False))
        else:
            self.stdout.write(text() if callable(text) else text)

    def read_input(self, name: str, kind: UploadKind | None = None) -> bytes:
        """The bytes of the file a command was given; refused with one line when it cannot be
        read, or (for a kind of upload) when it is over that kind's size limit — before reading."""
        path = Path(name)
        try:
            if kind is not None:
                too_large = too_large_message(kind, path.stat().st_size)
                if too_large:
                    raise CommandError(f"{path}: {too_large}")
            return path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None

    def engagement(self, options) -> Engagement:
        try:
            return Engagement.objects.get(slug=options["engagement"])
        except Engagement.DoesNotExist:
            raise CommandError(f"No engagement with slug '{options['engagement']}'.") from None

    def acting_user(self, options, engagement: Engagement | None = None):
        User = get_user_model()
        if options.get("as_user"):
            try:
                return User.objects.get(username=options["as_user"], is_active=True)
            except User.DoesNotExist:
                raise CommandError(f"No active user named '{options['as_user']}'.") from None
        if engagement is not None and engagement.created_by_id:
            return engagement.created_by
        superuser = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if superuser is None:
            raise CommandError("Name the acting user with --as USER (there is no superuser).")
        return superuser


def _flatten(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{field}: {message}" if field != "__all__" else message
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return exc.messages
