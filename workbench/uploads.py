"""How much a user may upload, in one place (settings `WORKBENCH_UPLOAD_LIMITS_MB`, from the
environment variables named in `_SETTING`, and `WORKBENCH_MAX_SHEET_ROWS`).

Each kind of file has a size limit, checked three times: by the request-size middleware before Django
reads a body at all (the largest limit), by the form or serializer field (the page and the API name
the file), and by the service that parses the bytes (the commands read files themselves). Spreadsheet
readers stop at a row limit so a workbook of a million empty-looking rows cannot hold a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse

MB = 1024 * 1024


class UploadKind(StrEnum):
    CONTRACT = "contract"
    WORKBOOK = "workbook"
    DDL = "ddl"


_LABELS = {
    UploadKind.CONTRACT: "contract file",
    UploadKind.WORKBOOK: "workbook",
    UploadKind.DDL: "DDL or column list",
}
_SETTING = {
    UploadKind.CONTRACT: "WORKBENCH_MAX_CONTRACT_MB",
    UploadKind.WORKBOOK: "WORKBENCH_MAX_WORKBOOK_MB",
    UploadKind.DDL: "WORKBENCH_MAX_DDL_MB",
}


def limit_bytes(kind: UploadKind) -> int:
    return int(settings.WORKBENCH_UPLOAD_LIMITS_MB[kind] * MB)


def too_large_message(kind: UploadKind, size: int) -> str | None:
    """The refusal for a file of `size` bytes, or None when it is within the limit."""
    limit = limit_bytes(kind)
    if size <= limit:
        return None
    return (
        f"The {_LABELS[kind]} is {human_size(size)}; the limit is {human_size(limit)} "
        f"({_SETTING[kind]})."
    )


def human_size(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{size / 1024:.0f} KB"


def check_size(kind: UploadKind, size: int) -> None:
    """Refuse a file over its kind's limit (a ValidationError on `file`)."""
    message = too_large_message(kind, size)
    if message:
        raise ValidationError({"file": message}, code="too_large")


def size_validator(kind: UploadKind) -> Callable[[Any], None]:
    """A field validator (forms and DRF serializers both call it with the uploaded file)."""

    def validate(upload: Any) -> None:
        message = too_large_message(kind, upload.size)
        if message:
            raise ValidationError(message, code="too_large")

    return validate


def max_sheet_rows() -> int:
    return int(settings.WORKBENCH_MAX_SHEET_ROWS)


def too_many_rows_message(sheet: str) -> str:
    return (
        f"Sheet {sheet} has more than {max_sheet_rows():,} rows, the most one import reads "
        f"(WORKBENCH_MAX_SHEET_ROWS); split the file."
    )


class RequestSizeLimitMiddleware:
    """Answer 413 for a body larger than any upload may be, before Django reads it.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE leaves file parts out, so without this a client could
    stream gigabytes into temporary files. Under WSGI a body without Content-Length reads as empty.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = max(limit_bytes(kind) for kind in UploadKind) + MB  # room for the form fields
        if length > limit:
            message = (
                f"The request is {human_size(length)}; uploads are limited to "
                f"{human_size(limit - MB)}."
            )
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
