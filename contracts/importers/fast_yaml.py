"""Safe YAML loading, fast for plain documents, with PyYAML's values (dates stay strings).

Two routes, one answer. A plain block document — what contracts usually are — is read by
rapidyaml (C++) into JSON when a pre-scan and a few checks prove the values the same as PyYAML's
(`load_plain`). Anything else takes the current route: libyaml's events straight into dicts and
lists (`FastYaml`), and PyYAML's full loader behind it, with every bound and message of its own.
"""

from __future__ import annotations

import functools
import json
import re
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

try:  # the rapid route; without it every document takes the current route
    import ryml
except ImportError:  # pragma: no cover - rapidyaml is a runtime dependency
    ryml = None

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


class NotPlain(Exception):
    """The rapid route cannot vouch for the document; the current route reads it."""


def _byte_classes(other: bytes, classes: dict[bytes, bytes]) -> bytes:
    """A `bytes.translate` table: each byte of a key of `classes` becomes its value, any other
    byte `other`."""
    table = bytearray(other * 256)
    for members, name in classes.items():
        for byte in members:
            table[byte] = name[0]
    return bytes(table)


# The pre-scan looks at the document's bytes through two tables, so that what it asks is a search
# for a short string (C speed, no loop per line): where an indicator stands (YAML's indicators but
# `-`: anchors, aliases, tags, flow collections, quotes, block scalars, comments, directives,
# complex keys) and where a control character (tab, carriage return, ...) or a long line is.
_INDICATORS = b"!\"#%&'*,:>?@[]`{|}"
_CONTROLS = bytes([*range(0x20), 0x7F]).replace(b"\n", b"")
# (Other text is `.`, whose Bloom bit CPython's search does not share with ` `, `!` or `\n`.)
_NODE_BYTES = _byte_classes(b".", {_INDICATORS: b"!", b" \n": b" "})
_LINE_BYTES = _byte_classes(b".", {_CONTROLS: b"X", b"\n": b"\n"})
# A node starts at a line's indentation, after `- ` or after `: `: always behind a space or a line
# break. An indicator there (or ` #`, a comment; or ` :`) is refused, inside a plain scalar it is
# text. Refusing it after every space refuses a few plain scalars too; they take the current route.
_NODE_STARTS_WITH_INDICATOR = b" !"
# PyYAML refuses a key of more than 1024 characters, rapidyaml does not: no line may be as long.
_LONG_LINE = b"." * 1000
# Block nesting is bounded by indentation: at most two collections per column (a sequence may sit
# at its key's own column), so 41 columns hold 82 levels, inside MAX_DEPTH, and rapidyaml's
# recursion stays shallow. Also refused: document markers, and `- -` (a sequence opened on its
# parent's line, which `_nodes` does not count).
_MAX_INDENT = 40
_REFUSED_LINE_STARTS = re.compile(rb"\n(?:---|\.\.\.|[ -]{%d})" % (_MAX_INDENT + 1))
_NESTED_ENTRY = re.compile(rb"-[ ]+-(?=[ \n])")
_BLANK_LINE = re.compile(rb"\n(?=[ ]*\n)")
_ENTRY_WITH_KEY = re.compile(rb"\n[ ]*-[ ]+[^:\n]*:(?=[ \n])")


def _is_plain_block(lines: bytes) -> bool:
    """Whether `lines` (the document between two line breaks) is made of plain block nodes only:
    keys, `- ` entries and plain scalars, in no more than `_MAX_INDENT` columns."""
    nodes, text = lines.translate(_NODE_BYTES), lines.translate(_LINE_BYTES)
    return not (
        b"X" in text
        or _LONG_LINE in text
        or _NODE_STARTS_WITH_INDICATOR in nodes
        or _REFUSED_LINE_STARTS.search(lines)
        or _NESTED_ENTRY.search(lines)
    )


def _nodes(lines: bytes) -> int:
    """How many nodes rapidyaml makes of a plain block document if each line holds what it shows:
    the root, one per line (a key, or an entry), one more for an entry opening a mapping (`- a:`).

    A line continuing a multi-line plain scalar adds no node, so the count tells it apart; such
    scalars take the current route rather than trust two parsers to fold lines alike."""
    line_count = lines.count(b"\n") - 1 - len(_BLANK_LINE.findall(lines))
    return 1 + line_count + len(_ENTRY_WITH_KEY.findall(lines))


def _not_a_string() -> re.Pattern[str] | None:
    """A JSON string PyYAML would not have read as a string had it been written plain: one
    matching any of StringDatesLoader's implicit resolvers (null, bool, int, float; `<<`, `=`...).

    These match ASCII letters, digits and `.+-_:~<=!&*` only, which JSON writes unescaped, so the
    pattern finds every such string in the JSON text (and, harmlessly, a few look-alikes).
    None when a resolver is of a form this does not read."""
    resolvers = StringDatesLoader.yaml_implicit_resolvers
    if StringDatesLoader.yaml_path_resolvers or None in resolvers:
        return None
    alternatives = set()
    for regexp in {regexp for pairs in resolvers.values() for _, regexp in pairs}:
        body = regexp.pattern.strip()
        if not (body[:1] == "^" and body[-1:] == "$") or regexp.flags & ~(re.X | re.U):
            return None
        alternatives.add(f"(?{'x' if regexp.flags & re.X else ''}:{body[1:-1]})")
    # PyYAML tries only the resolvers listed under a scalar's first character (`""` is the empty
    # one): looking ahead at it first skips most strings cheaply. `$` also matches before a final
    # line break, which JSON writes as `\n`.
    first = re.escape("".join(sorted(resolvers))) + '"'
    return re.compile(rf'"(?=[{first}])(?:{"|".join(sorted(alternatives))})(?:\\n)?"')


_NOT_A_STRING = _not_a_string()
_SCALARS = FastYaml()


@functools.lru_cache(maxsize=1024)
def _plain_reading(written: str) -> tuple[type, str] | None:
    """The type and repr of PyYAML's value for `written` as a plain scalar (None for a tag the
    fast loader does not build); numbers repeat in a contract."""
    try:
        value = _SCALARS.resolved(written, (True, False))
    except Fallback:
        return None
    return type(value), repr(value)


def _literal(written: str, value: Any) -> Any:
    """`value`, when PyYAML reads `written` (plain) as the same value of the same type."""
    if _plain_reading(written) != (type(value), repr(value)):
        raise NotPlain(written)
    return value


def _int(text: str) -> int:
    # rapidyaml writes an integer as the document does
    return _literal(text, int(text))


def _float(text: str) -> float:
    # rapidyaml writes a number as the document does but completes what JSON would not read
    # (`.5` → `0.5`, `-.5` → `-0.5`, `1.` → `1.0`): each spelling `text` may stand for must agree
    value = float(text)
    _literal(text, value)
    if text.startswith("0."):
        _literal(text[1:], value)
    if text.startswith("-0."):
        _literal("-" + text[2:], value)
    if text.endswith(".0"):
        _literal(text[:-1], value)
    return value


def _constant(text: str) -> Any:
    raise NotPlain(text)  # NaN or Infinity: PyYAML spells these `.nan`, `.inf`


def load_plain(text: str) -> Any:
    """The document in `text` read by rapidyaml, when it is provably what the current route
    returns; NotPlain otherwise.

    Why: the pre-scan admits plain block documents only, whose structure YAML 1.1 (PyYAML) and
    1.2 (rapidyaml) read alike; the node count shows each line read as one key or entry, so each
    scalar is the text on its line. rapidyaml writes `true`, `false` and `null` bare only for those
    words and an empty value, which PyYAML reads alike; each number is checked against PyYAML's
    resolvers as written; a string any resolver would claim (`yes`, `~`, `1_000`, keys too) means
    giving up. Duplicate keys: both keep the last value, at the first one's place.
    """
    if ryml is None or _NOT_A_STRING is None:
        raise NotPlain("rapidyaml is not available")
    # PyYAML refuses some characters and breaks lines at others (NEL, LS, PS); printable only
    if not (text.isascii() or text.replace("\n", "").isprintable()):
        raise NotPlain("a character outside plain text")
    data = text.encode()
    lines = b"\n" + data + b"\n"
    if not _is_plain_block(lines):
        raise NotPlain("not a plain block document")
    nodes = _nodes(lines)
    try:
        tree = ryml.parse_in_arena(data)
        root = tree.root_id()
        shown = tree.size() == nodes and (tree.is_map(root) or tree.is_seq(root))
        document = ryml.emit_json(tree) if shown else None
    except Exception as exc:  # a refusal (rapidyaml prints it too): the current route words it
        raise NotPlain("rapidyaml refused it") from exc
    if document is None:
        raise NotPlain("a line read as more or less than it shows, or a scalar document")
    if _NOT_A_STRING.search(document):
        raise NotPlain("a scalar PyYAML reads as something else")
    try:
        return json.loads(document, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except ValueError as exc:  # a number JSON does not read (`+1`, `1.e5`)
        raise NotPlain("a number JSON does not read") from exc


def load_yaml(text: str) -> Any:
    """The document in `text`; dates stay strings. Raises yaml.YAMLError (YamlLimitError for a
    document too deep or whose aliases expand too far)."""
    try:
        return load_plain(text)
    except NotPlain:
        return load_events(text)


def load_events(text: str) -> Any:
    """The current route: libyaml's events into values, PyYAML's full loader for what they leave."""
    try:
        return FastYaml().load(text)
    except Fallback:
        # the full loader composes recursively and expands aliases: the bounds are checked first
        for _ in within_limits(yaml.parse(text, Loader=_SafeLoader)):
            pass
        return yaml.load(text, Loader=StringDatesLoader)  # noqa: S506 - a SafeLoader subclass
