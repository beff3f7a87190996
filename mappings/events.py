"""The mapping's spec content changed: tell whoever cares, once per engagement, after the commit.

Every service that writes spec content of EntityMapping/AttributeMapping (mappings.snapshot) calls
`spec_changed(engagement=, entities=)` once per write, bulk writes included — simple-history's
per-row signal is not sent by `bulk_create_with_history`/`bulk_update_with_history`, so the
services say it themselves. Later apps register a handler `fn(*, engagement, entities)` (sign-off
tells approvers their approval changed) without the mapping importing them, like
contracts.hooks.

Inside a transaction, the calls of one engagement add up to ONE on-commit callback carrying every
entity named; it runs with robust=True, so a failing handler is logged and never breaks the save.
Outside a transaction the handlers run at once.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from workbench.models import Engagement

logger = logging.getLogger(__name__)

SpecChangeHandler = Callable[..., None]  # fn(*, engagement, entities: frozenset[str])
_HANDLERS: list[SpecChangeHandler] = []


def register_spec_change_handler(fn: SpecChangeHandler) -> SpecChangeHandler:
    """Register `fn(*, engagement, entities)`; usable as a decorator. Registering twice is a no-op."""
    if fn not in _HANDLERS:
        _HANDLERS.append(fn)
    return fn


def unregister_spec_change_handler(fn: SpecChangeHandler) -> None:
    if fn in _HANDLERS:
        _HANDLERS.remove(fn)


# Per thread (so per database connection): (alias, engagement id) → (the queued callback, weakly,
# and the entities it will report). The weak reference is how we know the callback is still
# queued without reading Django's private list: Django holds the only strong reference until it
# runs it, and drops it when the transaction or the savepoint it was queued in rolls back.
_queued = threading.local()


def _registry() -> dict[tuple[str, Any], tuple[weakref.ref, set[str]]]:
    if not hasattr(_queued, "pending"):
        _queued.pending = {}
    return _queued.pending


def spec_changed(*, engagement, entities: Iterable[str], using: str | None = None) -> None:
    """Report that the spec content of `entities` of `engagement` changed in this transaction."""
    if not _HANDLERS:
        return
    connection = transaction.get_connection(using)
    key = (connection.alias, engagement.pk)
    queued = _registry().get(key)
    if connection.in_atomic_block and queued is not None and queued[0]() is not None:
        queued[1].update(entities)  # already queued in this transaction: it reports these too
        return
    names = set(entities)
    engagement_id = engagement.pk

    def notify_spec_changed() -> None:
        _registry().pop(key, None)
        _run_handlers(engagement_id, frozenset(names))

    if connection.in_atomic_block:
        _registry()[key] = (weakref.ref(notify_spec_changed), names)
    transaction.on_commit(notify_spec_changed, using=connection.alias, robust=True)


def _run_handlers(engagement_id: int, entities: frozenset[str]) -> None:
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is None:
        return  # deleted in the meantime: nobody to tell
    for handler in list(_HANDLERS):
        try:
            handler(engagement=engagement, entities=entities)
        except Exception:  # one failing handler must not keep the others from running
            logger.exception(
                "Spec change handler %s failed.", getattr(handler, "__name__", handler)
            )
