"""Template filters of the contract pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def field_value(value) -> str:
    """A contract field's value as a BA reads it: yes/no, comma-separated lists, — for empty."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
