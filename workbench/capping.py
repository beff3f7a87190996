"""Lists of problems an import reports, capped: a hostile file can produce millions of them, and
the first few hundred tell the user all they can act on."""

from __future__ import annotations

MAX_LISTED = 200


def capped(items: list[str], *, limit: int = MAX_LISTED, noun: str = "") -> list[str]:
    """The first `limit` items, then one line counting the rest (`… and 9,800 more problems.`)."""
    if len(items) <= limit:
        return items
    rest = f"{len(items) - limit:,} more{f' {noun}' if noun else ''}"
    return [*items[:limit], f"… and {rest}."]


def capped_list(items: list[str], *, limit: int = MAX_LISTED) -> str:
    """The items joined with commas, capped the same way (`a, b, … and 3 more`)."""
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", … and {len(items) - limit:,} more"
