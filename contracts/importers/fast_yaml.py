"""Safe YAML loading, fast for plain documents: libyaml events straight into dicts and lists."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

try:  # libyaml when available
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class StringDatesLoader(_SafeLoader):
    """Safe YAML loading that keeps dates and timestamps as the strings they were written as."""


StringDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_PLAIN_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


class Fallback(Exception):
    """The fast loader met something it leaves to the full loader (tags, merge keys, ...)."""


class FastYaml:
    """Safe YAML loading straight from libyaml's events into dicts and lists.

    Composing a node graph before constructing Python objects is most of PyYAML's cost on a large
    contract (a 200×100 contract: ~4 s, against ~0.3 s for the events). Plain documents — the
    contracts we see — are built from the events directly, with the same implicit types as
    `StringDatesLoader` (null, bool, int, float; dates stay strings); anything unusual (explicit
    tags, merge keys, complex keys, several documents) falls back to the full loader.
    """

    _str = "tag:yaml.org,2002:str"

    def __init__(self) -> None:
        self.resolver = StringDatesLoader("")
        self.constructor = yaml.constructor.SafeConstructor()
        # (plain value, implicit flags) → resolved tag: contracts repeat the same scalars a lot.
        self.resolved: dict[tuple[str, tuple[bool, bool]], str] = {}
        self.convert: dict[str, Callable[[str], Any]] = {
            "tag:yaml.org,2002:null": lambda value: None,
            "tag:yaml.org,2002:bool": self._scalar(self.constructor.construct_yaml_bool),
            "tag:yaml.org,2002:int": self._scalar(self.constructor.construct_yaml_int),
            "tag:yaml.org,2002:float": self._scalar(self.constructor.construct_yaml_float),
        }

    @staticmethod
    def _scalar(construct: Callable[[yaml.ScalarNode], Any]) -> Callable[[str], Any]:
        return lambda value: construct(yaml.ScalarNode("", value))

    def scalar(self, event: ScalarEvent) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            key = (event.value, event.implicit)
            tag = self.resolved.get(key)
            if tag is None:
                tag = self.resolved[key] = self.resolver.resolve(
                    yaml.ScalarNode, event.value, event.implicit
                )
        if tag == self._str:
            return event.value
        convert = self.convert.get(tag)
        if convert is None:
            raise Fallback(tag)
        return convert(event.value)

    def load(self, text: str) -> Any:
        stack: list[list[Any]] = []  # [container, pending key] per open mapping or sequence
        anchors: dict[str, Any] = {}
        root: list[Any] = []
        no_key = object()
        # Events are told apart by exact type (`type(...) is`), the cheapest test in a loop that
        # runs once per event; so `event` is left untyped rather than narrowed.
        events: Iterator[Any] = yaml.parse(text, Loader=_SafeLoader)
        for event in events:
            kind = type(event)
            if kind is ScalarEvent:
                value = self.scalar(event)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.tag not in _PLAIN_COLLECTION_TAGS:
                    raise Fallback(event.tag)
                container: Any = {} if kind is MappingStartEvent else []
                if event.anchor:
                    anchors[event.anchor] = container
                stack.append([container, no_key])
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                container, key = stack.pop()
                if key is not no_key:
                    raise Fallback("dangling key")
                value = container
                event = None
            elif kind is AliasEvent:
                if event.anchor not in anchors:
                    raise Fallback("unknown alias")
                value = anchors[event.anchor]
                event = None
            else:
                continue
            if event is not None and event.anchor:
                anchors[event.anchor] = value
            if not stack:
                root.append(value)
                if len(root) > 1:
                    raise Fallback("several documents")
                continue
            top = stack[-1]
            if isinstance(top[0], list):
                top[0].append(value)
            elif top[1] is no_key:
                if isinstance(value, dict | list) or value == "<<":
                    raise Fallback("complex or merge key")
                top[1] = value
            else:
                top[0][top[1]] = value
                top[1] = no_key
        return root[0] if root else None


def load_yaml(text: str) -> Any:
    """The document in `text`; dates stay strings. Raises yaml.YAMLError."""
    try:
        return FastYaml().load(text)
    except Fallback:
        return yaml.load(text, Loader=StringDatesLoader)  # noqa: S506 - a SafeLoader subclass
