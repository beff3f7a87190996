"""Helpers every app's views use: resolve the engagement (404 for outsiders), check the policy
(403 for members without the right), render a full page or only its HTMX fragment."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, render

from . import policy
from .choices import Role
from .models import Engagement
from .policy import Action


def engagement_view(action: Action = Action.VIEW, *, write_action: Action | None = None):
    """Decorate `view(request, engagement, ...)` taking a `slug` URL argument.

    Outsiders get 404 (another engagement's data is invisible); members lacking `action` get 403;
    with `write_action`, a POST additionally needs that action.
    """

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            engagement = get_object_or_404(Engagement.objects.restrict(request.user), slug=slug)
            policy.check(request.user, engagement, action)
            if write_action and request.method == "POST":
                policy.check(request.user, engagement, write_action)
            return view(request, engagement, *args, **kwargs)

        return wrapper

    return decorate


def engagement_context(request, engagement: Engagement, **extra) -> dict:
    allowed = policy.allowed_actions(request.user, engagement)
    role = policy.role_of(request.user, engagement)
    return {
        "engagement": engagement,
        "role": role,
        "role_label": Role(role).label if role else "",
        "allowed": {action.value: True for action in allowed},
        **extra,
    }


def render_page(request, template: str, context: dict, *, fragment: str | None = None, status=200):
    """Render `template`, or only `fragment` when the request comes from HTMX."""
    name = fragment if fragment and request.htmx else template
    return render(request, name, context, status=status)


def add_service_errors(form, exc: ValidationError | PermissionDenied) -> None:
    """Show a service's refusal on the form: field errors on their fields, the rest on top."""
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc))
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
