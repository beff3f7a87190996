"""API token authentication: `Authorization: Token <key>` (or `Bearer <key>`).

The key is looked up by its SHA-256 (the database holds nothing else); an expired or revoked
token, or one of an inactive user, is refused with a 401 that says why. This class comes first in
DEFAULT_AUTHENTICATION_CLASSES, so a request without credentials gets 401 with its
`WWW-Authenticate` header rather than a bare 403.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from workbench import services
from workbench.models import ApiToken, token_key_hash

KEYWORDS = ("token", "bearer")


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower().decode(errors="replace") not in KEYWORDS:
            return None  # no token offered: the next class (the browser's session) may answer
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: give the scheme and the key, e.g. 'Token wbt_…'."
            )
        try:
            key = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "Invalid token: it has unreadable characters."
            ) from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(key_hash=token_key_hash(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        refusal = _refusal(token)
        if refusal:
            raise exceptions.AuthenticationFailed(refusal)
        services.token_mark_used(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


def _refusal(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return f"This API token was revoked on {_when(token.revoked_at)}."
    if token.expires_at <= timezone.now():
        return f"This API token expired on {_when(token.expires_at)}. Create a new one."
    if not token.user.is_active:
        return "User inactive or deleted."
    return ""


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token header in the OpenAPI schema (Swagger's "Authorize" button)."""

    target_class = "workbench.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )
