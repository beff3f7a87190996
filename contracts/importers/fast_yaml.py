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


# A contract is a few levels deep and repeats little: these bounds refuse hostile documents (an
# "alias bomb" of nested aliases expands 500 bytes into hundreds of millions of values) before
# anything is built, while leaving room for the anchors a hand-written contract may use.
MAX_DEPTH = 100
ALIAS_BUDGET = 10_000


class YamlLimitError(yaml.MarkedYAMLError):
    """The document is refused for its shape, not its syntax: aliases expanding too far, or nesting
    too deep. `problem_mark` is where it was noticed."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem=problem, problem_mark=mark)


def within_limits(
    events: Iterator[Any], *, max_depth: int = MAX_DEPTH, alias_budget: int = ALIAS_BUDGET
) -> Iterator[Any]:
    """The parser's events, passed on while the document stays within bounds.

    Counts the values each anchored node stands for, and what every alias would add once expanded,
    so a refusal comes from the event stream alone, before any object is constructed.
    """
    sizes = [0]  # values under each open collection; the first entry is the stream itself
    open_anchors: list[str | None] = []
    anchored: dict[str, int] = {}
    expanded = 0
    for event in events:
        kind = type(event)
        if kind is MappingStartEvent or kind is SequenceStartEvent:
            if len(sizes) > max_depth:
                raise YamlLimitError(f"nested more than {max_depth} levels deep", event.start_mark)
            sizes.append(1)
            open_anchors.append(event.anchor)
            yield event
            continue
        if kind is ScalarEvent:
            size, anchor = 1, event.anchor
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            size, anchor = sizes.pop(), open_anchors.pop()
        elif kind is AliasEvent:
            anchor = None
            if event.anchor in open_anchors:  # a value containing itself never ends when expanded
                raise YamlLimitError(
                    "an alias refers to a value that contains it", event.start_mark
                )
            size = anchored.get(event.anchor, 1)
            expanded += size
            if expanded > alias_budget:
                raise YamlLimitError(
                    f"aliases would expand to more than {alias_budget:,} values", event.start_mark
                )
        else:
            yield event
            continue
        if anchor:
            anchored[anchor] = size
        sizes[-1] += size
        yield event


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
        events: Iterator[Any] = within_limits(yaml.parse(text, Loader=_SafeLoader))
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
    """The document in `text`; dates stay strings. Raises yaml.YAMLError (YamlLimitError for a
    document too deep or whose aliases expand too far)."""
    try:
        return FastYaml().load(text)
    except Fallback:
        # the full loader composes recursively and expands aliases: the bounds are checked first
        for _ in within_limits(yaml.parse(text, Loader=_SafeLoader)):
            pass
        return yaml.load(text, Loader=StringDatesLoader)  # noqa: S506 - a SafeLoader subclass
