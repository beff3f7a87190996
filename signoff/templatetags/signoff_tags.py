"""Template tags of signoff: the inbox count in the top bar, diff values."""

from __future__ import annotations

import json

from django import template

from ..selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_unread(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    cache = request.__dict__.setdefault("_signoff_unread", {})
    if "count" not in cache:
        cache["count"] = unread_count(user=user)
    return cache["count"]


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
