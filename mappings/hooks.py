"""The hook through which a later app tells the mapping pages how each entity and attribute stands
against its last approval, without the mapping importing that app (like contracts.hooks).

The sign-off app registers a provider `fn(*, engagement, entities=None) -> dict` returning
`{"entities": {entity: state}, "attributes": {(entity, attribute): state}}` for every entity, or
only the `entities` named (a page of one entity asks for that one), where a state holds at least
"changed" (bool), "changes" (field diffs) and "version". With no provider, nothing is approved and
the pages show no approval state.
"""

from __future__ import annotations

from collections.abc import Callable

ApprovalStateProvider = Callable[..., dict]
_PROVIDERS: list[ApprovalStateProvider] = []


def register_approval_state_provider(fn: ApprovalStateProvider) -> ApprovalStateProvider:
    """Register `fn(*, engagement, entities=None)`; usable as a decorator. Registering twice is a no-op."""
    if fn not in _PROVIDERS:
        _PROVIDERS.append(fn)
    return fn


def unregister_approval_state_provider(fn: ApprovalStateProvider) -> None:
    if fn in _PROVIDERS:
        _PROVIDERS.remove(fn)


def approval_state(*, engagement, entities: list[str] | None = None) -> dict:
    """Every provider's entity and attribute states (of all entities, or of those named),
    merged in registration order."""
    state: dict = {"entities": {}, "attributes": {}}
    for provider in _PROVIDERS:
        provided = provider(engagement=engagement, entities=entities) or {}
        state["entities"].update(provided.get("entities", {}))
        state["attributes"].update(provided.get("attributes", {}))
    return state
