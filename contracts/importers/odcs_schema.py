"""The ODCS standard's own JSON Schema, and every violation of it in a document at once.

The schema files are not ours: they ship inside datacontract-cli (a maintained package installed
with the workbench), one per ODCS release, and are read from the installed package. A document is
checked against the schema of the release it names in `apiVersion` (v3.0.x against the v3.0.2
schema, the last of that line). Each violation becomes a `Problem` naming the YAML path in the
same form as our other messages (`schema[2].properties[4].logicalType`).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# jsonschema ships no type information (and its stub package is not a dependency of ours).
from jsonschema import Draft201909Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError as SchemaError  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match

SCHEMA_PACKAGE = "datacontract"
# The schema file of each supported apiVersion.
SCHEMA_FILES = {
    "v3.0.0": "odcs-3.0.2.schema.json",
    "v3.0.1": "odcs-3.0.2.schema.json",
    "v3.0.2": "odcs-3.0.2.schema.json",
    "v3.1.0": "odcs-3.1.0.schema.json",
}


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with the file: where (a YAML path, '' for the file) and what."""

    place: str
    message: str


class SchemaUnavailable(RuntimeError):
    """The package that ships the standard's schema is not installed (a set-up fault)."""


def schema_file(api_version: str) -> Path:
    spec = importlib.util.find_spec(SCHEMA_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SchemaUnavailable(
            "the ODCS JSON Schema ships with datacontract-cli, which is not installed; "
            "reinstall the workbench (make install)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "schemas" / SCHEMA_FILES[api_version]


@cache
def validator_for(api_version: str) -> Draft201909Validator:
    schema = json.loads(schema_file(api_version).read_text(encoding="utf-8"))
    return Draft201909Validator(schema)


def schema_problems(document: dict[str, Any], api_version: str) -> list[Problem]:
    """Every violation of the standard's schema in `document`, in path order, without repeats."""
    errors = list(validator_for(api_version).iter_errors(document))
    # A key that fails a rule is also reported as "unevaluated" at the same place: say it once.
    failing = {_place(e) for e in errors if e.validator != "unevaluatedProperties"}
    problems: set[Problem] = set()
    for error in errors:
        if error.validator == "unevaluatedProperties" and _place(error) in failing:
            continue
        problems.update(_problems_of(error))
    return in_document_order(problems)


def in_document_order(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (_path_key(p.place), p.message))


def place_of(path: Iterable[str | int]) -> str:
    """`schema[2].properties[4].name` for the path ('schema', 2, 'properties', 4, 'name')."""
    place = ""
    for part in path:
        if isinstance(part, int):
            place += f"[{part}]"
        else:
            place += f".{part}" if place else str(part)
    return place


def _place(error: SchemaError) -> str:
    return place_of(error.absolute_path)


def _child(place: str, key: str) -> str:
    return f"{place}.{key}" if place else key


def _problems_of(error: SchemaError) -> list[Problem]:
    place = _place(error)
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return [Problem(_child(place, missing), "missing required key.")]
    if kind in ("additionalProperties", "unevaluatedProperties"):
        # jsonschema names the unexpected keys in its message, in quotes.
        return [
            Problem(
                _child(place, key),
                "unknown key; the standard keeps anything else under customProperties.",
            )
            for key in _quoted(error.message)
        ]
    if kind == "not" and isinstance(error.validator_value, dict):
        # A key the standard forbids in this place (a property-level relationship's `from`).
        forbidden = error.validator_value.get("required") or []
        if forbidden:
            return [Problem(_child(place, key), "not allowed here.") for key in forbidden]
    return [Problem(place, _message(error))]


def _quoted(message: str) -> list[str]:
    """The names a jsonschema message quotes: "('a', 'b' were unexpected)" gives [a, b]."""
    return message.split("'")[1::2]


def _message(error: SchemaError) -> str:
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "type":
        expected = " or ".join(value) if isinstance(value, list) else value
        return f"expected {_TYPE_WORDS.get(expected, expected)}, found {_shown(instance)}."
    if kind == "enum":
        return f"{_shown(instance)} is not allowed; expected one of {', '.join(map(str, value))}."
    if kind == "const":
        return f"expected {_shown(value)}, found {_shown(instance)}."
    if kind == "pattern":
        return f"{_shown(instance)} does not have the form the standard requires ({value})."
    if kind in ("oneOf", "anyOf"):
        return _alternatives_message(error)
    return error.message + "."


def _alternatives_message(error: SchemaError) -> str:
    """A `oneOf`: exactly one of several keys (the quality operators), or one of several forms."""
    alternatives = [s for s in error.validator_value if isinstance(s, dict)]
    keys = [key for s in alternatives for key in s.get("required", [])]
    single_keys = len(keys) == len(alternatives) and all(
        len(s.get("required", [])) == 1 for s in alternatives
    )
    if single_keys and isinstance(error.instance, dict):
        found = [k for k in keys if k in error.instance]
        if len(found) > 1:
            return f"sets {', '.join(found)}; expected exactly one of {', '.join(keys)}."
        return f"expected exactly one of {', '.join(keys)}."
    if not error.context:
        return "matches more than one of the forms the standard allows; expected exactly one."
    closest = best_match(error.context)
    where = place_of(list(closest.absolute_path)[len(error.absolute_path) :])
    detail = _message(closest)
    return (
        f"matches none of the forms the standard allows ({where + ': ' if where else ''}{detail})"
    )


_TYPE_WORDS = {
    "string": "text",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "array": "a list",
    "object": "a mapping",
}


def _shown(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _path_key(place: str) -> tuple:
    """Sort key of a place: list indexes compare as numbers, so [10] comes after [2]."""
    key: list[tuple[int, Any]] = []
    for part in place.replace("[", ".[").split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            key.append((1, int(part[1:-1])))
        elif part:
            key.append((0, part))
    return tuple(key)
