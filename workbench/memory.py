"""Pausing Python's cyclic garbage collector around work that builds large acyclic data."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Reading a big catalog or contract allocates hundreds of thousands of small dicts, lists and
    records that all live on and hold no cycles; the cyclic collector would scan them again and
    again for nothing. Reference counting still frees what goes out of use."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
