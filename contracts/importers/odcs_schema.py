"""The ODCS standard's own JSON Schema, and every violation of it in a document at once.

The schema files are not ours: they ship inside datacontract-cli (a maintained package installed
with the workbench), one per ODCS release, and are read from the installed package. A document is
checked against the schema of the release it names in `apiVersion` (v3.0.x against the v3.0.2
schema, the last of that line). Each violation becomes a `Problem` naming the YAML path in the
same form as our other messages (`schema[2].properties[4].logicalType`). The validator is
jsonschema-rs: it checks a contract of 20,000 attributes in under a second, where a pure-Python
validator takes over a minute.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SCHEMA_PACKAGE = "datacontract"
# The schema file of each supported apiVersion.
SCHEMA_FILES = {
    "v3.0.0": "odcs-3.0.2.schema.json",
    "v3.0.1": "odcs-3.0.2.schema.json",
    "v3.0.2": "odcs-3.0.2.schema.json",
    "v3.1.0": "odcs-3.1.0.schema.json",
    "v3.2.0": "odcs-3.2.0.schema.json",
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
def schema_for(api_version: str) -> dict[str, Any]:
    return json.loads(schema_file(api_version).read_text(encoding="utf-8"))


@cache
def validator_for(api_version: str) -> Any:
    return jsonschema_rs.Draft201909Validator(schema_for(api_version))


def schema_problems(document: dict[str, Any], api_version: str) -> list[Problem]:
    """Every violation of the standard's schema in `document`, in path order, without repeats."""
    errors = list(validator_for(api_version).iter_errors(document))
    # A key that fails a rule is also reported as "unevaluated" at the same place: say it once.
    failing = {_place(e) for e in errors if e.kind.name != "unevaluatedProperties"}
    problems: set[Problem] = set()
    for error in errors:
        if error.kind.name == "unevaluatedProperties" and _place(error) in failing:
            continue
        problems.update(_problems_of(error, schema_for(api_version)))
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


def _place(error: Any) -> str:
    return place_of(error.instance_path)


def _child(place: str, key: str) -> str:
    return f"{place}.{key}" if place else key


def _problems_of(error: Any, schema: dict[str, Any]) -> list[Problem]:
    place, kind = _place(error), error.kind
    if kind.name == "required":
        return [Problem(_child(place, kind.property), "missing required key.")]
    if kind.name in ("additionalProperties", "unevaluatedProperties"):
        return [
            Problem(
                _child(place, key),
                "unknown key; the standard keeps anything else under customProperties.",
            )
            for key in kind.unexpected
        ]
    if kind.name == "not" and isinstance(kind.schema, dict) and kind.schema.get("required"):
        # A key the standard forbids in this place (a property-level relationship's `from`).
        return [Problem(_child(place, key), "not allowed here.") for key in kind.schema["required"]]
    if kind.name in ("oneOf", "anyOf"):
        return [Problem(place, _alternatives_message(error, schema))]
    return [Problem(place, _message(error))]


def _message(error: Any) -> str:
    kind, instance = error.kind, error.instance
    if kind.name == "type":
        words = [_TYPE_WORDS.get(t, t) for t in kind.types]
        return f"expected {' or '.join(words)}, found {_shown(instance)}."
    if kind.name == "enum":
        return f"{_shown(instance)} is not allowed; expected one of {', '.join(map(str, kind.options))}."
    if kind.name == "pattern":
        return f"{_shown(instance)} does not have the form the standard requires ({kind.pattern})."
    return error.message + "."


def _alternatives_message(error: Any, schema: dict[str, Any]) -> str:
    """A `oneOf`: exactly one of several keys (the quality operators), or one of several forms."""
    alternatives = _keyword_value(schema, list(error.schema_path)) or []
    keys = [k for alt in alternatives if isinstance(alt, dict) for k in alt.get("required", [])]
    one_key_each = len(keys) == len(alternatives) > 0
    if one_key_each and isinstance(error.instance, dict):
        found = [k for k in keys if k in error.instance]
        if len(found) > 1:
            return f"sets {', '.join(found)}; expected exactly one of {', '.join(keys)}."
        return f"expected exactly one of {', '.join(keys)}."
    failed = [alt for alt in error.kind.context if alt]
    if len(failed) < len(error.kind.context):
        return "matches more than one of the forms the standard allows; expected exactly one."
    closest = min(failed, key=len)[0]  # the form the document came closest to
    where = place_of(list(closest.instance_path)[len(error.instance_path) :])
    detail = _message(closest)
    return (
        f"matches none of the forms the standard allows ({where + ': ' if where else ''}{detail})"
    )


def _keyword_value(schema: dict[str, Any], path: list[str | int]) -> Any:
    """The schema's value at `path` (a validator's schema path, from the last `$ref` on)."""
    value: Any = schema
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


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
