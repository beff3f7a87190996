"""The hook through which later apps say which of their rows a new contract version affects.

The mapping app registers a provider `fn(engagement, diff) -> list[dict]` returning items
`{"entity": ..., "attribute": ..., "reason": ...}`; the diff page and the CLI call
`affected_mappings`. With no provider registered, nothing is listed and the page says that
mappings do not exist yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

AffectedProvider = Callable[[Any, Any], list[dict]]
_PROVIDERS: list[AffectedProvider] = []


def register_affected_mappings_provider(fn: AffectedProvider) -> AffectedProvider:
    """Register `fn(engagement, diff)`; usable as a decorator. Registering twice is a no-op."""
    if fn not in _PROVIDERS:
        _PROVIDERS.append(fn)
    return fn


def unregister_affected_mappings_provider(fn: AffectedProvider) -> None:
    if fn in _PROVIDERS:
        _PROVIDERS.remove(fn)


def has_affected_mappings_provider() -> bool:
    return bool(_PROVIDERS)


def affected_mappings(engagement, diff) -> list[dict]:
    """Every provider's affected items, in registration order."""
    items: list[dict] = []
    for provider in _PROVIDERS:
        items.extend(provider(engagement, diff) or [])
    return items
