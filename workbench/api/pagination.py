"""The one pagination class of the API: limit/offset, with both parameters validated.

DRF's LimitOffsetPagination passes `offset` to the database as given, so `?offset=99999999999999999999`
overflows a bigint (a 500), and it silently replaces a limit it cannot read with the default. Here
a parameter that is not a whole number within bounds answers 400 naming the bounds.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")  # 18 digits: int() stays cheap, the bound decides


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000
    max_offset = 1_000_000  # far beyond any list here; well inside a bigint

    def get_limit(self, request: Request) -> int | None:
        return self._bounded(request, self.limit_query_param, 1, self.max_limit, self.default_limit)

    def get_offset(self, request: Request) -> int:
        return self._bounded(request, self.offset_query_param, 0, self.max_offset, 0)

    @staticmethod
    def _bounded(request: Request, name: str, low: int, high: int, default: Any) -> Any:
        """The parameter `name` as an integer in low..high; `default` when absent or empty."""
        raw = request.query_params.get(name, "").strip()
        if not raw:
            return default
        if _WHOLE_NUMBER.fullmatch(raw) and low <= int(raw) <= high:
            return int(raw)
        raise ValidationError({name: [f"{name} must be a whole number between {low} and {high}."]})

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """The bounds in the OpenAPI description too."""
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: (1, self.max_limit),
            self.offset_query_param: (0, self.max_offset),
        }
        for parameter in parameters:
            low, high = bounds.get(parameter["name"], (None, None))
            if low is not None:
                parameter["schema"]["minimum"] = low
            if high is not None:
                parameter["schema"]["maximum"] = high
        return parameters
