"""The API's OpenAPI description: tags per area, a summary on every operation and the error answers.

drf-spectacular documents the happy path only. The errors every endpoint can give come from the
same few places (authentication, `workbench.policy`, the engagement lookup, serializers and the
exception handler in `exceptions.py`), so they are added here once rather than on each operation.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import capfirst
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

# The first path segment after /api/v1/engagements/<slug>/ (or after /api/v1/) → the tag.
_TAGS = {
    "engagements": "Engagements",
    "members": "Engagements",
    "signoff-owners": "Engagements",
    "glossary": "Engagements",
    "links": "Engagements",
    "contract": "Contracts",
    "sources": "Catalog",
    "catalog": "Catalog",
    "entity-mappings": "Mappings",
    "attribute-mappings": "Mappings",
    "mapping-comments": "Mappings",
    "gap": "Mappings",
    "signoff": "Sign-off",
    "spec": "Exports",
    "spec-imports": "Exports",
    "etl": "Exports",
    "jobs": "Jobs",
}
_SUBTAGS = {("signoff", "notifications"): "Notifications"}

# Verbose names Django derives badly ("impacted entitys"), for the summaries only.
_NOUNS = {
    "impacted entity": ("impacted entity", "impacted entities"),
    "uat item": ("UAT item", "UAT items"),
}

_VERBS = {
    "list": "List",
    "retrieve": "Show",
    "create": "Create",
    "update": "Replace",
    "partial_update": "Update",
    "destroy": "Delete",
}

# The bodies of error answers, as DRF's handler writes them (workbench/api/exceptions.py).
_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_VALIDATION_ERROR = {
    "type": "object",
    "description": (
        "Field name → messages; errors not tied to one field are under `detail` "
        "(or `non_field_errors`). Nested inputs answer nested objects."
    ),
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {}},
            {"type": "object", "additionalProperties": {}},
            {"type": "string"},
        ]
    },
}
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class WorkbenchAutoSchema(AutoSchema):
    def _words(self) -> list[str]:
        """The path without its version and parameters: ["engagements", "glossary"], ["jobs"]."""
        return [p for p in self._tokenize_path() if not p.startswith("{") and p != "v1"]

    def get_tags(self) -> list[str]:
        parts = self._words()
        area = parts[1] if parts[:1] == ["engagements"] and len(parts) > 1 else parts[0]
        if len(parts) > 2 and (area, parts[2]) in _SUBTAGS:
            return [_SUBTAGS[(area, parts[2])]]
        # /engagements/{slug}/set-phase/ and the like are the engagement's own actions
        return [_TAGS.get(area) or _TAGS.get(parts[0]) or capfirst(parts[0])]

    def get_summary(self) -> str | None:
        """The first line of the view's own docstring for the action, else "<verb> <noun>"."""
        action = getattr(self.view, "action", None) or self.method.lower()
        handler = getattr(self.view, action, None)
        doc = (getattr(handler, "__doc__", None) or "").strip()
        if doc and not getattr(handler, "__module__", "").startswith("rest_framework"):
            return doc.splitlines()[0].rstrip(".")
        verb = _VERBS.get(action, capfirst(action.replace("_", " ")))
        return f"{verb} {self._noun(plural=action == 'list')}"

    def _noun(self, *, plural: bool) -> str:
        """The model's verbose name (from the queryset or the serializer's model)."""
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        if model is None:
            meta = getattr(getattr(self.view, "serializer_class", None), "Meta", None)
            model = getattr(meta, "model", None)
        if model is None:
            return " ".join(self._words()[-1:]).replace("-", " ")
        name = str(model._meta.verbose_name)
        singular, many = _NOUNS.get(name, (name, str(model._meta.verbose_name_plural)))
        return many if plural else singular

    def _get_paginator(self) -> Any:
        """DRF pages only what `ListModelMixin.list` answers; other actions answer plain bodies."""
        if getattr(self.view, "action", None) != "list":
            return None
        return super()._get_paginator()

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description, schema in self._error_responses():
            responses.setdefault(code, {"description": description, "content": schema})
        return responses

    def _error_responses(self) -> list[tuple[str, str, dict[str, Any]]]:
        error = self._content("Error", _ERROR)
        errors: list[tuple[str, str, dict[str, Any]]] = []
        if self.method in _WRITE_METHODS or self._reads_query():
            errors.append(
                (
                    "400",
                    "The input is not valid.",
                    self._content("ValidationError", _VALIDATION_ERROR),
                )
            )
        if self._requires_authentication() and self._challenges():
            errors.append(("401", "Not signed in.", error))
        if self.method in _WRITE_METHODS - {"DELETE"}:
            errors.append(("415", "The body's media type is not one this operation reads.", error))
        errors.append(("403", "Not signed in, or the role does not allow this.", error))
        if "{" in self.path:
            errors.append(
                ("404", "No such object for this user (another engagement's data included).", error)
            )
        return errors

    def _content(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return {"application/json": {"schema": component.ref}}

    def _reads_query(self) -> bool:
        """Query parameters (filters, paging, options) are input a user can get wrong."""
        return any(parameter.get("in") == "query" for parameter in self._get_parameters())

    def _requires_authentication(self) -> bool:
        return bool(self.view.get_permissions())

    def _challenges(self) -> bool:
        """DRF answers 401 only when the first authenticator sends a WWW-Authenticate challenge."""
        authenticators = self.view.get_authenticators()
        return bool(authenticators) and bool(
            authenticators[0].authenticate_header(self.view.request)
        )
