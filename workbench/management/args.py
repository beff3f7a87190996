"""Reading what people type on the command line: choices by stored value or label, record ids."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.core.management.base import CommandError
from django.db import models

# Usage errors found after parsing (an argument combination argparse cannot express) exit like
# argparse's own: 2.
USAGE = 2


def _normal(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text).strip().casefold()


def choice_value(
    choices: type[models.Choices],
    text: str,
    what: str,
    aliases: Mapping[str, str] | None = None,
) -> str:
    """The stored value of the choice typed as its value or its label, case-insensitive
    (`tech_ba`, `Tech BA`, `tech-ba`); refused with every valid choice listed."""
    wanted = _normal(text)
    for alias, value in (aliases or {}).items():
        if wanted == _normal(alias):
            return value
    for value, label in choices.choices:
        if wanted in {_normal(str(value)), _normal(str(label))}:
            return str(value)
    valid = ", ".join(f"{value} ({label})" for value, label in choices.choices)
    raise CommandError(f"Unknown {what} '{text}'; choose one of: {valid}.")


def record_id(text: str, what: str) -> int:
    """A record's number as typed (`7` or `#7`)."""
    digits = text.strip().removeprefix("#")
    if not digits.isdigit():
        raise CommandError(f"'{text}' is not a {what} number.", returncode=USAGE)
    return int(digits)
