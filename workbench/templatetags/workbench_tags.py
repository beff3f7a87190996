"""Template tags of the engagement core: the inbox count in the top bar."""

from __future__ import annotations

from django import template

from ..selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_unread(context) -> int:
    """The user's unread notifications, counted once per request."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    cache = request.__dict__.setdefault("_workbench_unread", {})
    if "count" not in cache:
        cache["count"] = unread_count(user=user)
    return cache["count"]
