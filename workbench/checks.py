"""System checks of the deployment settings (run by `manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

W001 = Warning(
    "SITE_URL is not set: links in notification e-mails would be relative and unusable.",
    hint="Set SITE_URL to the site's absolute address, e.g. https://workbench.example.com.",
    id="workbench.W001",
)
W002 = Warning(
    "SITE_URL does not start with https:// or http://.",
    hint="Set SITE_URL to the site's absolute address, e.g. https://workbench.example.com.",
    id="workbench.W002",
)


@register(Tags.security, deploy=True)
def site_url_check(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """In production, e-mail links need the site's absolute address."""
    if settings.DEBUG:
        return []
    site_url = getattr(settings, "SITE_URL", "")
    if not site_url:
        return [W001]
    if not site_url.startswith(("https://", "http://")):
        return [W002]
    return []
