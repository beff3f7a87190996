"""Ranked source-column suggestions for an interface attribute, each with its reasons.

Pure: words and scores. Only a shortlist of columns is scored for an attribute: every column of
the entity's own tables, the columns named exactly like it, and those sharing its rarest words
(after abbreviations and glossary synonyms). `SuggestionIndex` finds that shortlist in a list of
columns held in memory; `mappings.selectors.suggestions` finds the same one through the
catalog's stored index, reading only the candidate columns.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from .expressions import spelled_identifier

# Abbreviations Marts are full of, and the word each stands for.
ABBREVIATIONS = {
    "cust": "customer",
    "cst": "customer",
    "addr": "address",
    "adr": "address",
    "amt": "amount",
    "dt": "date",
    "dte": "date",
    "ts": "timestamp",
    "tstamp": "timestamp",
    "nbr": "number",
    "num": "number",
    "no": "number",
    "cd": "code",
    "desc": "description",
    "ind": "flag",
    "flg": "flag",
    "qty": "quantity",
    "fname": "first",
    "lname": "last",
    "nm": "name",
    "tel": "phone",
    "mobile": "phone",
    "cell": "phone",
    "mail": "email",
    "e": "email",
    "zip": "postal",
    "postcode": "postal",
    "dob": "birth",
    "bday": "birth",
    "cmp": "campaign",
    "camp": "campaign",
    "sub": "subscription",
    "subs": "subscription",
    "evt": "event",
    "ctry": "country",
    "cntry": "country",
    "st": "state",
    "upd": "updated",
    "crt": "created",
    "ins": "created",
    "pk": "id",
    "ref": "id",
    "nk": "id",
    "key": "id",
    "sk": "id",
    "src": "source",
    "chnl": "channel",
    "ch": "channel",
    "stat": "status",
    "sts": "status",
    "typ": "type",
    "tp": "type",
}
STOPWORDS = {"the", "of", "a", "an", "and", "or", "to", "is", "at", "for"}
PATTERN_WORDS = {"email": "email", "phone": "phone"}
DATE_TYPES = {"date", "timestamp"}


def words(name: str) -> list[str]:
    """Lower-case words of an identifier: snake_case, camelCase, spaces split; numbers kept."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.findall(r"[a-z]+|\d+", name.lower()) if w not in STOPWORDS]


def normalise(name: str, synonyms: dict[str, str] | None = None) -> set[str]:
    """The set of meaning-bearing words of a name, abbreviations expanded, synonyms merged."""
    result = set()
    for word in words(name):
        word = ABBREVIATIONS.get(word, word)
        if synonyms:
            word = synonyms.get(word, word)
        result.add(word)
    return result


def synonym_map(glossary: Iterable[tuple[str, Iterable[str]]]) -> dict[str, str]:
    """Glossary terms and their synonyms → the term's first word, so they count as one word."""
    mapping: dict[str, str] = {}
    for term, synonyms in glossary:
        head = next(iter(words(term)), "")
        if not head:
            continue
        for synonym in synonyms:
            for word in words(synonym):
                mapping.setdefault(ABBREVIATIONS.get(word, word), head)
    return mapping


@dataclass(frozen=True)
class AttributeFacts:
    name: str
    entity: str
    logical_type: str = ""
    primary_key: bool = False
    business_name: str = ""


@dataclass(frozen=True)
class ColumnFacts:
    table: str
    column: str
    data_type: str = ""
    is_primary_key: bool = False
    patterns: tuple[str, ...] = ()
    alias: str = ""  # set when the table is the entity's driving table or a join
    dialect: str = ""  # the entity's rules' dialect: the reference is written as it needs
    pk: int = 0  # the catalog column's id: breaks ties between equal table.column names

    @property
    def reference(self) -> str:
        """`alias.column` as a rule of the dialect writes it (`c."CustomerKey"` on PostgreSQL)."""
        if not self.alias:
            return f"{self.table}.{self.column}"
        return f"{self.alias}.{spelled_identifier(self.column, self.dialect)}"


@dataclass
class Suggestion:
    column: ColumnFacts
    score: float
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "table": self.column.table,
            "column": self.column.column,
            "alias": self.column.alias,
            "reference": self.column.reference,
            "score": round(self.score, 3),
            "reasons": self.reasons,
        }


_TEXT = ("char", "text", "string", "clob")
_NUMERIC = ("int", "num", "dec", "float", "double", "real", "money")
_TYPE_FAMILIES = {
    "string": _TEXT,
    "integer": ("int", "serial"),
    "number": _NUMERIC,
    "date": ("date", "time"),
    "timestamp": ("time", "date"),
    "boolean": ("bool", "bit", "int"),
}


@lru_cache(maxsize=4096)
def type_fits(logical_type: str, data_type: str) -> bool | None:
    """True/False when the column's type suits the attribute's, None when unknown."""
    if not logical_type or not data_type:
        return None
    if logical_type == "string":
        return True  # anything can be rendered as text
    data_type = data_type.lower()
    return any(part in data_type for part in _TYPE_FAMILIES.get(logical_type, ()))


# Shortlisting: a word in more columns than COMMON does not bring candidates of its own (it only
# re-ranks those the rarer words brought, or brings the first COMMON when it is the rarest);
# SHORTLIST candidates at most are fully scored per attribute, besides the entity's own tables
# and the columns named exactly like the attribute.
COMMON = 500
SHORTLIST = 150


def word_weight(total_columns: int, columns_with_word: int) -> float:
    """Inverse document frequency: a word found in fewer columns says more."""
    return math.log((1 + total_columns) / (1 + columns_with_word)) + 1


def rank(scored: Iterable[Suggestion], *, limit: int) -> list[Suggestion]:
    """Suggestions worth showing, best first; equal scores by table, column, then catalog id."""
    kept = [s for s in scored if s.score > 0.2]
    kept.sort(key=lambda s: (-s.score, s.column.table, s.column.column, s.column.pk))
    return kept[:limit]


class SuggestionIndex:
    """The columns of a catalog held in memory, indexed by normalised word.

    Fine for a list of columns at hand (and the reference the stored index is tested against);
    a whole catalog is read through `mappings.selectors.suggestions` instead.
    """

    COMMON = COMMON
    SHORTLIST = SHORTLIST

    def __init__(self, columns: Iterable[ColumnFacts], synonyms: dict[str, str] | None = None):
        self.synonyms = synonyms or {}
        self.columns = list(columns)
        seen: dict[str, frozenset] = {}  # a Mart repeats column names across its tables
        self.words = [
            seen.get(c.column)
            or seen.setdefault(c.column, frozenset(normalise(c.column, self.synonyms)))
            for c in self.columns
        ]
        self.by_word: dict[str, list[int]] = defaultdict(list)
        self.by_name: dict[frozenset, list[int]] = defaultdict(list)
        for i, column_words in enumerate(self.words):
            self.by_name[column_words].append(i)
            for word in column_words:
                self.by_word[word].append(i)
        self.in_scope = [i for i, c in enumerate(self.columns) if c.alias]
        self.table_words = TableWords(self.synonyms)
        total = len(self.columns)
        self.weight = {w: word_weight(total, len(p)) for w, p in self.by_word.items()}

    def suggest(self, attribute: AttributeFacts, *, limit: int = 5) -> list[Suggestion]:
        wanted = frozenset(normalise(attribute.name, self.synonyms))
        entity_words = normalise(attribute.entity, self.synonyms)
        scored = [
            score_column(
                attribute,
                wanted,
                entity_words,
                self.columns[i],
                self.words[i],
                self.table_words(self.columns[i].table),
            )
            for i in sorted(self._shortlist(wanted))
        ]
        return rank(scored, limit=limit)

    def _shortlist(self, wanted: frozenset) -> set[int]:
        overlap: dict[int, float] = defaultdict(float)
        for word in sorted(wanted, key=lambda w: (len(self.by_word.get(w, ())), w)):
            postings = self.by_word.get(word, ())
            if len(postings) <= self.COMMON or not overlap:
                for i in postings[: self.COMMON]:
                    overlap[i] += self.weight[word]
            else:
                for i in overlap:
                    if word in self.words[i]:
                        overlap[i] += self.weight[word]
        best = sorted(overlap, key=overlap.__getitem__, reverse=True)[: self.SHORTLIST]
        same_name = self.by_name.get(wanted, ())[: self.SHORTLIST]
        return set(best) | set(self.in_scope) | set(same_name)


class TableWords:
    """The normalised words of table names (the last part of `schema.table`), each once."""

    def __init__(self, synonyms: dict[str, str]):
        self.synonyms = synonyms
        self.cache: dict[str, set[str]] = {}

    def __call__(self, table: str) -> set[str]:
        if table not in self.cache:
            self.cache[table] = normalise(table.split(".")[-1], self.synonyms)
        return self.cache[table]


@lru_cache(maxsize=100_000)
def _spelling_likeness(wanted: str, column: str) -> float:
    return SequenceMatcher(None, wanted, column).ratio()


def score_column(
    attribute: AttributeFacts,
    wanted: frozenset[str],
    entity_words: set[str],
    column: ColumnFacts,
    column_words: frozenset[str],
    table_words: set[str],
) -> Suggestion:
    """How well `column` suits `attribute` (0..1), and why."""
    reasons = []
    overlap = wanted & column_words
    score = 0.0
    if wanted and column_words:
        score += 0.8 * len(overlap) / len(wanted | column_words)
        if column_words == wanted:
            reasons.append("same name")
        elif overlap:
            reasons.append(f"shared words: {', '.join(sorted(overlap))}")
        else:  # no word in common: a spelling close enough still counts a little
            fuzzy = _spelling_likeness("_".join(sorted(wanted)), "_".join(sorted(column_words)))
            score += 0.2 * fuzzy
            if fuzzy > 0.6:
                reasons.append("similar name")
    if column.alias:
        score += 0.15
        reasons.append(f"in the entity's table {column.table} ({column.alias})")
    elif entity_words & table_words:
        score += 0.05
        reasons.append("table named like the entity")
    fits = type_fits(attribute.logical_type, column.data_type)
    if fits is True and attribute.logical_type != "string":
        score += 0.1
        reasons.append(f"type {column.data_type} fits {attribute.logical_type}")
    elif fits is False:
        score -= 0.15
        reasons.append(f"type {column.data_type} does not fit {attribute.logical_type}")
    for word, pattern in PATTERN_WORDS.items():
        if word in wanted and pattern in column.patterns:
            score += 0.25
            reasons.append(
                f"values look like {pattern} addresses"
                if pattern == "email"
                else f"values look like {pattern} numbers"
            )
    if attribute.logical_type in DATE_TYPES and "date as text" in column.patterns:
        score += 0.05
        reasons.append("text holding dates")
    if attribute.primary_key and column.is_primary_key:
        score += 0.15
        reasons.append("both are keys")
    return Suggestion(column=column, score=max(0.0, min(score, 1.0)), reasons=reasons)
