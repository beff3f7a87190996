"""Helpers over iterables that Python 3.11's itertools lacks."""

from __future__ import annotations

import heapq
import json
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from itertools import islice
from typing import IO, TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last one shorter), read lazily: what itertools.batched
    does from Python 3.12, as lists."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def sorted_distinct(texts: Iterable[str], *, run: int) -> Iterator[str]:
    """The distinct `texts` in sorted order, as sorted(set(texts)) gives them, holding at most
    `run` of them in memory: each full run is sorted and spilled to a temporary file, and the
    files are merged as they are read back (an external merge sort)."""
    seen: set[str] = set()
    with ExitStack() as files:
        runs: list[IO[str]] = []
        for text in texts:
            seen.add(text)
            if len(seen) >= run:
                runs.append(_spilled(sorted(seen), files))
                seen.clear()
        if not runs:
            yield from sorted(seen)
            return
        if seen:
            runs.append(_spilled(sorted(seen), files))
            seen.clear()
        last = None
        for text in heapq.merge(*(map(json.loads, spilled) for spilled in runs)):
            if text != last:
                yield text
                last = text


def _spilled(texts: list[str], files: ExitStack) -> IO[str]:
    """A sorted run written to a temporary file, one JSON string a line, rewound for reading."""
    spilled = files.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))  # noqa: SIM115
    spilled.writelines(f"{json.dumps(text)}\n" for text in texts)
    spilled.seek(0)
    return spilled


class AscendingIds:
    """Ascending non-negative integers (row ids) packed as varint-encoded gaps: ids of rows
    created together take a byte each, against eight in an array. Read back in order by
    iterating; an id equal to the last one appended is dropped."""

    __slots__ = ("_bytes", "_last")

    def __init__(self) -> None:
        self._bytes = bytearray()
        self._last = -1

    def append(self, value: int) -> None:
        if value == self._last:
            return
        if value < self._last:
            raise ValueError(f"{value} after {self._last}: ids must be appended in ascending order")
        gap = value - self._last
        self._last = value
        while gap >= 0x80:
            self._bytes.append(gap & 0x7F | 0x80)
            gap >>= 7
        self._bytes.append(gap)

    def __iter__(self) -> Iterator[int]:
        value, gap, shift = -1, 0, 0
        for byte in self._bytes:
            gap |= (byte & 0x7F) << shift
            if byte & 0x80:
                shift += 7
                continue
            value += gap
            yield value
            gap, shift = 0, 0
