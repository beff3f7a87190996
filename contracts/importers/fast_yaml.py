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
_NO_KEY = object()  # a mapping waiting for its next key


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
    contract (a 200×100 contract: ~4 s, against ~1 s for libyaml to produce the events). Plain
    documents — the contracts we see — are built from the events directly, with the same implicit
    types as `StringDatesLoader` (null, bool, int, float; dates stay strings); anything unusual
    (explicit tags, merge keys, complex keys, several documents) falls back to the full loader.

    The bounds of `within_limits` are checked in the same loop, event by event, so a hostile
    document is refused at the same event with the same message, and half a million events do
    not pay for a second generator.
    """

    _str = "tag:yaml.org,2002:str"

    def __init__(self) -> None:
        self.resolver = StringDatesLoader("")
        self.constructor = yaml.constructor.SafeConstructor()
        resolvers = StringDatesLoader.yaml_implicit_resolvers
        # A plain scalar can be anything but a string only if its first character starts one of
        # the implicit resolvers' patterns (digits, signs, n/N for null, t/f/y/n/o for bool, ...);
        # any other is a string without trying a regular expression.
        # Only while no resolver looks at anything but the text (PyYAML's path resolvers, a
        # catch-all implicit one) — otherwise every scalar goes to the resolver.
        self.shortcuts = None not in resolvers and not StringDatesLoader.yaml_path_resolvers
        self.resolvable = frozenset(k for k in resolvers if k is not None)
        # plain text → its value: contracts repeat the same keys and values a lot.
        self.plain: dict[str, Any] = {}
        self.convert: dict[str, Callable[[str], Any]] = {
            self._str: lambda value: value,
            "tag:yaml.org,2002:null": lambda value: None,
            "tag:yaml.org,2002:bool": self._scalar(self.constructor.construct_yaml_bool),
            "tag:yaml.org,2002:int": self._scalar(self.constructor.construct_yaml_int),
            "tag:yaml.org,2002:float": self._scalar(self.constructor.construct_yaml_float),
        }

    @staticmethod
    def _scalar(construct: Callable[[yaml.ScalarNode], Any]) -> Callable[[str], Any]:
        return lambda value: construct(yaml.ScalarNode("", value))

    def resolved(self, value: str, implicit: tuple[bool, bool]) -> Any:
        """The value of a scalar written without a tag (or with the non-specific `!`)."""
        tag = self.resolver.resolve(yaml.ScalarNode, value, implicit)
        convert = self.convert.get(tag)
        if convert is None:
            raise Fallback(tag)
        return convert(value)

    def scalar(self, event: ScalarEvent) -> Any:
        value, tag = event.value, event.tag
        if tag is None and self.shortcuts:
            if not event.implicit[0]:  # quoted
                return value
            if value and value[0] not in self.resolvable:
                return value
            try:
                return self.plain[value]
            except KeyError:
                result = self.plain[value] = self.resolved(value, event.implicit)
                return result
        if tag is None or tag == "!":
            return self.resolved(value, event.implicit)
        if tag == self._str:
            return value
        convert = self.convert.get(tag)
        if convert is None:
            raise Fallback(tag)
        return convert(value)

    def load(
        self, text: str, *, max_depth: int = MAX_DEPTH, alias_budget: int = ALIAS_BUDGET
    ) -> Any:
        parser = _SafeLoader(text)
        try:
            return self._build(parser.get_event, max_depth, alias_budget)
        finally:
            parser.dispose()

    def _build(self, next_event: Callable[[], Any], max_depth: int, alias_budget: int) -> Any:
        # The innermost open collection is held in locals (`container`, its pending `key`, whether
        # it is a list, its anchor, and `count` when it opened); opening another pushes them on
        # `outer`. The stream itself is the outermost list. `count` is how many values
        # everything read so far stands for, aliases expanded, so a collection stands for `count`
        # at its end minus `count` at its start (itself included), as `within_limits` counts it.
        outer: list[tuple[Any, Any, bool, str | None, int]] = []
        anchors: dict[str, Any] = {}  # anchor → value
        anchored: dict[str, int] = {}  # anchor → how many values an alias of it stands for
        count = 0
        expanded = 0
        no_key = _NO_KEY
        root: list[Any] = []
        container: Any = root
        key: Any = no_key
        is_list = True
        own_anchor: str | None = None
        start = 0
        scalar, shortcuts, resolvable = self.scalar, self.shortcuts, self.resolvable
        # Events are told apart by exact type (`type(...) is`), the cheapest test in a loop that
        # runs once per event; so `event` is left untyped rather than narrowed.
        event: Any
        while (event := next_event()) is not None:
            kind = type(event)
            if kind is ScalarEvent:
                value = event.value
                # `scalar`'s first answers, inline: a quoted string, or a plain one that cannot be
                # anything else, is the text itself (most of a contract's values)
                if (
                    event.tag is not None
                    or not shortcuts
                    or (event.implicit[0] and (not value or value[0] in resolvable))
                ):
                    value = scalar(event)
                count += 1
                anchor = event.anchor
                if anchor:
                    anchored[anchor] = 1
                    anchors[anchor] = value
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                if key is not no_key:
                    raise Fallback("dangling key")
                value = container
                count += 1
                if own_anchor:
                    anchored[own_anchor] = count - start
                container, key, is_list, own_anchor, start = outer.pop()
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if len(outer) >= max_depth:
                    raise YamlLimitError(
                        f"nested more than {max_depth} levels deep", event.start_mark
                    )
                if event.tag not in _PLAIN_COLLECTION_TAGS:
                    raise Fallback(event.tag)
                outer.append((container, key, is_list, own_anchor, start))
                is_list = kind is SequenceStartEvent
                container = [] if is_list else {}
                key, own_anchor, start = no_key, event.anchor, count
                if own_anchor:
                    anchors[own_anchor] = container
                continue
            elif kind is AliasEvent:
                anchor = event.anchor
                if anchor == own_anchor or any(entry[3] == anchor for entry in outer):
                    # a value containing itself never ends when expanded
                    raise YamlLimitError(
                        "an alias refers to a value that contains it", event.start_mark
                    )
                size = anchored.get(anchor, 1)
                expanded += size
                if expanded > alias_budget:
                    raise YamlLimitError(
                        f"aliases would expand to more than {alias_budget:,} values",
                        event.start_mark,
                    )
                count += size
                if anchor not in anchors:
                    raise Fallback("unknown alias")
                value = anchors[anchor]
            else:
                continue
            if is_list:
                container.append(value)
            elif key is no_key:
                if value == "<<" or isinstance(value, (dict, list)):
                    raise Fallback("complex or merge key")
                key = value
            else:
                container[key] = value
                key = no_key
        if len(root) > 1:
            raise Fallback("several documents")
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
