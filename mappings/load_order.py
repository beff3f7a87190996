"""Load order of interface entities, derived from the contract's relationships.

A child (the entity holding a foreign key) loads after its parent. A cycle is reported, never
silently broken: the entities in it are named and left out of the order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class LoadOrder:
    order: list[str] = field(default_factory=list)
    cycle: list[str] = field(default_factory=list)  # entities caught in a cycle, if any

    def position(self, entity: str) -> int | None:
        """1-based load position, or None for an entity in a cycle."""
        return self.order.index(entity) + 1 if entity in self.order else None


def load_order(entities: Iterable[str], edges: Iterable[tuple[str, str]]) -> LoadOrder:
    """`edges` are (child, parent) pairs; self-references do not constrain the order.

    Kahn's algorithm, taking ready entities in their contract order so the result is stable.
    """
    entities = list(entities)
    rank = {name: i for i, name in enumerate(entities)}
    parents: dict[str, set[str]] = {name: set() for name in entities}
    for child, parent in edges:
        if child != parent and child in parents and parent in parents:
            parents[child].add(parent)
    order: list[str] = []
    remaining = dict(parents)
    while remaining:
        ready = sorted(
            (n for n, ps in remaining.items() if not ps - set(order)), key=rank.__getitem__
        )
        if not ready:
            return LoadOrder(order=order, cycle=sorted(remaining, key=rank.__getitem__))
        order.extend(ready)
        for name in ready:
            del remaining[name]
    return LoadOrder(order=order)
