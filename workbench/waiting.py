"""The home's "waiting for you": what each engagement asks of the user, across all of theirs.

The core knows no reviews or comments; the apps that own them register a source with
`@waiting_source` (loaded by their AppConfig.ready). A source takes the user and the ids of the
engagements they are a member of and answers in a fixed number of queries however many
engagements there are, so the home costs the same for one engagement or fifty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .models import Engagement


@dataclass(frozen=True)
class WaitingItem:
    kind: str  # "review", "mention", "question", "sme_review": the CSS class and the label
    label: str  # what kind of thing, in words: "Review", "Mention", …
    title: str  # what to do, in words
    detail: str
    url: str  # the page where the user acts
    engagement: str  # its name
    when: datetime | None = None


WaitingSource = Callable[..., list[WaitingItem]]
WAITING_SOURCES: list[WaitingSource] = []


def waiting_source(fn: WaitingSource) -> WaitingSource:
    WAITING_SOURCES.append(fn)
    return fn


def waiting_for(*, user) -> list[WaitingItem]:
    """Everything waiting for `user` in the engagements they are a member of: reviews first, then
    the rest, newest first within each kind."""
    engagements = dict(Engagement.objects.filter(memberships__user=user).values_list("pk", "name"))
    if not engagements:
        return []
    items: list[WaitingItem] = []
    for source in WAITING_SOURCES:
        items += source(user=user, engagements=engagements)
    order = {"review": 0, "mention": 1, "question": 2, "sme_review": 3}
    items.sort(key=lambda i: -(i.when.timestamp() if i.when else 0))
    items.sort(key=lambda i: order.get(i.kind, 9))
    return items
