"""The one refusal every contract parser raises."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from .odcs_schema import Problem

# A file wrong everywhere is not listed to its end: the first problems show what is wrong.
MAX_PROBLEMS = 100


def _sentence(file_name: str, place: str, message: str) -> str:
    return f"{file_name}: {place}: {message}" if place else f"{file_name}: {message}"


class ContractFileError(ValidationError):
    """A refusal of the file, naming the file and the place of each problem.

    Built with one place and message, or with `problems()` for all that is wrong at once: its
    `messages` then hold one sentence per problem, in the order given (the first
    `MAX_PROBLEMS`, then how many more).
    """

    def __init__(self, file_name: str, place: str, message: str):
        super().__init__(_sentence(file_name, place, message), code="invalid_contract")

    @classmethod
    def problems(cls, file_name: str, problems: Iterable[Problem]) -> ContractFileError:
        sentences = [_sentence(file_name, p.place, p.message) for p in problems]
        if len(sentences) > MAX_PROBLEMS:
            more = len(sentences) - MAX_PROBLEMS
            sentences = [*sentences[:MAX_PROBLEMS], f"{file_name}: and {more} more problems."]
        error = cls.__new__(cls)
        ValidationError.__init__(
            error, [ValidationError(s, code="invalid_contract") for s in sentences]
        )
        return error
