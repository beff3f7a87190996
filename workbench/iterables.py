"""Helpers over iterables that Python 3.11's itertools lacks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last one shorter), read lazily: what itertools.batched
    does from Python 3.12, as lists."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
