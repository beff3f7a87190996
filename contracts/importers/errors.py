"""The one refusal every contract parser raises."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ContractFileError(ValidationError):
    """A refusal of the file, naming the file and the place."""

    def __init__(self, file_name: str, place: str, message: str):
        where = f"{file_name}: {place}: " if place else f"{file_name}: "
        super().__init__(where + message, code="invalid_contract")
