"""API errors: a service's Django ValidationError becomes a 400 with field-level messages."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=_rename_all_field(detail))
    return drf_exception_handler(exc, context)


def _rename_all_field(detail: dict) -> dict:
    """Django calls form-wide errors '__all__'; the API calls them 'detail'."""
    if "__all__" in detail:
        detail = dict(detail)
        detail["detail"] = detail.pop("__all__")
    return detail


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for a URL no route matches (e.g. /api/v1/jobs/abc/): JSON under /api/, as
    every other API error is; the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
