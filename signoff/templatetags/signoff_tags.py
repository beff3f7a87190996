"""Template tags of signoff: diff values."""

from __future__ import annotations

import json

from django import template

register = template.Library()


@register.filter
def spec_value(value) -> str:
    """A snapshot value as text: lists joined, None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value) if str(value) != "" else "∅"
