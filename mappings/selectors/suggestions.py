"""Suggestions for unmapped attributes, read through the catalog's stored suggestion index.

A request reads the words of the attribute's names from the index (how many columns carry each,
and the first columns of the rarest), then the facts of the few candidate columns: never the
whole catalog. The shortlist is the one `mappings.suggestions.SuggestionIndex` would make over
all columns held in memory, in the catalog's order (source name, schema, table, position, name).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum

from catalog.models import (
    CatalogColumn,
    CatalogTable,
    SourceSystem,
    SuggestionName,
    SuggestionWord,
)
from workbench.models import Engagement

from ..compiled import compile_from_clause
from ..models import AttributeMapping, EntityMapping
from ..suggestions import (
    COMMON,
    SHORTLIST,
    AttributeFacts,
    ColumnFacts,
    Suggestion,
    TableWords,
    normalise,
    rank,
    score_column,
    synonym_map,
    word_weight,
)
from .mapping import contract_attributes

FETCH = 900  # ids per query (SQLite's oldest limit on parameters is 999)


@dataclass(frozen=True)
class IndexedName:
    pk: int
    source_id: int
    words: frozenset[str]  # after the glossary's synonyms
    column_count: int


class CatalogSuggestions:
    """The engagement's catalog as the suggestion index sees it, for one request: what it reads
    is kept for the next attribute (an entity's attributes share most of their words)."""

    def __init__(
        self, *, engagement: Engagement, aliases: dict[str, str], dialect: str, synonyms: dict
    ):
        self.engagement, self.aliases, self.dialect = engagement, aliases, dialect
        self.synonyms = synonyms
        self.spellings: dict[str, set[str]] = defaultdict(set)  # word → index words meaning it
        for spelling, word in synonyms.items():
            self.spellings[word].add(spelling)
        # in the order the catalog lists them (the database's collation, as the catalog pages)
        self.sources = list(
            SourceSystem.objects.filter(engagement=engagement)
            .order_by("name")
            .values_list("pk", flat=True)
        )
        self.total = _indexed_total(self.sources)
        self.table_words = TableWords(synonyms)
        self._names: dict[str, list[IndexedName]] = {}
        self._postings: dict[str, list[int]] = {}
        self._column_words: dict[int, frozenset[str]] = {}
        self._facts: dict[int, ColumnFacts] = {}
        self._in_scope: list[int] | None = None

    # --- one attribute ------------------------------------------------------------------------

    def suggest(self, attribute: AttributeFacts, *, limit: int = 5) -> list[Suggestion]:
        wanted = frozenset(normalise(attribute.name, self.synonyms))
        entity_words = normalise(attribute.entity, self.synonyms)
        candidates = self.shortlist(wanted)
        self._read_facts(candidates)
        scored = [
            score_column(
                attribute,
                wanted,
                entity_words,
                self._facts[pk],
                self._words_of(pk),
                self.table_words(self._facts[pk].table),
            )
            for pk in sorted(candidates)
            if pk in self._facts
        ]
        return rank(scored, limit=limit)

    def shortlist(self, wanted: frozenset[str]) -> set[int]:
        """Ids of the columns worth scoring: those sharing the rarest words (weighted by how
        rare), those named exactly like the attribute, and the entity's own tables' columns."""
        overlap: dict[int, float] = defaultdict(float)
        self._read_names(set(wanted))
        counts = {word: self._count(word) for word in wanted}
        for word in sorted(wanted, key=lambda w: (counts[w], w)):
            weight = word_weight(self.total, counts[word])
            if counts[word] <= COMMON or not overlap:
                for pk in self._first_columns(word):
                    overlap[pk] += weight
            else:
                for pk in overlap:
                    if word in self._column_words[pk]:
                        overlap[pk] += weight
        best = sorted(overlap, key=overlap.__getitem__, reverse=True)[:SHORTLIST]
        return set(best) | set(self._entity_columns()) | set(self._same_name(wanted))

    # --- the index ----------------------------------------------------------------------------

    def _names_with(self, word: str) -> list[IndexedName]:
        """The indexed names holding `word` (or a spelling the glossary counts as it)."""
        if word not in self._names:
            self._read_names({word})
        return self._names[word]

    def _read_names(self, words: set[str]) -> None:
        """The names of every word not read yet, in one query."""
        meant_by: dict[str, set[str]] = defaultdict(set)  # index word → the words it means
        for word in words - self._names.keys():
            self._names[word] = []
            for spelling in self.spellings.get(word, ()):
                meant_by[spelling].add(word)
            if self.synonyms.get(word, word) == word:
                meant_by[word].add(word)
        if not meant_by:
            return
        rows = SuggestionWord.objects.filter(
            source_id__in=self.sources, word__in=meant_by
        ).values_list("word", "name_id", "name__source_id", "name__words", "name__column_count")
        seen: set[tuple[str, int]] = set()
        for spelling, pk, source_id, name_words, count in rows:
            name = IndexedName(pk, source_id, frozenset(self._meaning(name_words)), count)
            for word in meant_by[spelling]:
                if (word, pk) not in seen:  # a name with two spellings of one word counts once
                    seen.add((word, pk))
                    self._names[word].append(name)

    def _named(self, names) -> list[IndexedName]:
        rows = names.filter(source_id__in=self.sources).values_list(
            "pk", "source_id", "words", "column_count"
        )
        return [
            IndexedName(pk, source_id, frozenset(self._meaning(words)), count)
            for pk, source_id, words, count in rows
        ]

    def _meaning(self, words: str) -> set[str]:
        return {self.synonyms.get(w, w) for w in words.split()}

    def _count(self, word: str) -> int:
        return sum(name.column_count for name in self._names_with(word))

    def _first_columns(self, word: str) -> list[int]:
        """The first COMMON columns holding `word`, in catalog order."""
        if word not in self._postings:
            self._postings[word] = self._columns_named(self._names_with(word), COMMON)
        return self._postings[word]

    def _same_name(self, wanted: frozenset[str]) -> list[int]:
        """The first SHORTLIST columns whose words are exactly the attribute's."""
        if wanted:
            rarest = min(wanted, key=lambda w: len(self._names_with(w)))
            names = [n for n in self._names_with(rarest) if n.words == wanted]
        else:
            names = self._named(SuggestionName.objects.filter(words=""))
        return self._columns_named(names, SHORTLIST) if names else []

    def _columns_named(self, names: list[IndexedName], limit: int) -> list[int]:
        """The first `limit` columns under `names`, source by source in catalog order (each name
        keeps its first COMMON columns, as many as any limit asks)."""
        meaning = {name.pk: name.words for name in names}
        by_source: dict[int, list[int]] = defaultdict(list)
        for name in names:
            by_source[name.source_id].append(name.pk)
        found: list[int] = []
        for source_id in self.sources:
            ids = by_source.get(source_id, [])
            rows: list[tuple[int, int, int]] = []
            for start in range(0, len(ids) if len(found) < limit else 0, FETCH):
                first = SuggestionName.objects.filter(pk__in=ids[start : start + FETCH])
                for name_id, columns in first.values_list("pk", "first_columns"):
                    rows += [(ordinal, column_id, name_id) for ordinal, column_id in columns]
            for _ordinal, column_id, name_id in sorted(rows)[: limit - len(found)]:
                self._column_words[column_id] = meaning[name_id]
                found.append(column_id)
        return found

    # --- the catalog --------------------------------------------------------------------------

    def _entity_columns(self) -> list[int]:
        """Every column of the entity's driving table and joins."""
        if self._in_scope is None:
            tables = CatalogTable.objects.filter(source_id__in=self.sources).values_list(
                "pk", "schema", "name"
            )
            wanted = [
                pk
                for pk, schema, name in tables
                if (f"{schema}.{name}" if schema else name).lower() in self.aliases
            ]
            self._in_scope = list(
                CatalogColumn.objects.filter(table_id__in=wanted).values_list("pk", flat=True)
            )
        return self._in_scope

    def _words_of(self, pk: int) -> frozenset[str]:
        if pk not in self._column_words:
            self._column_words[pk] = frozenset(normalise(self._facts[pk].column, self.synonyms))
        return self._column_words[pk]

    def _read_facts(self, pks: set[int]) -> None:
        missing = sorted(pk for pk in pks if pk not in self._facts)
        for start in range(0, len(missing), FETCH):
            rows = CatalogColumn.objects.filter(pk__in=missing[start : start + FETCH]).values_list(
                "pk",
                "table__schema",
                "table__name",
                "name",
                "data_type",
                "is_primary_key",
                "profile__patterns",
            )
            for pk, schema, table, name, data_type, is_pk, patterns in rows:
                qualified = f"{schema}.{table}" if schema else table
                self._facts[pk] = ColumnFacts(
                    table=qualified,
                    column=name,
                    data_type=data_type,
                    is_primary_key=is_pk,
                    patterns=tuple(p.get("pattern", "") for p in patterns or ()),
                    alias=self.aliases.get(qualified.lower(), ""),
                    dialect=self.dialect,
                    pk=pk,
                )


def _indexed_total(sources: list[int]) -> int:
    """The engagement's number of catalog columns, as its sources' indexes count them (each
    index is rebuilt with its catalog, so this is the catalog's count)."""
    total = SuggestionName.objects.filter(source_id__in=sources).aggregate(n=Sum("column_count"))
    return total["n"] or 0


def catalog_suggestions(
    *, engagement: Engagement, entity_mapping: EntityMapping | None = None
) -> CatalogSuggestions:
    """The catalog's suggestion index and the glossary's synonyms (one query).

    Columns of the entity's driving table and joins carry their alias, so suggestions name them
    the way the rule is written (`c.email_addr`).
    """
    aliases: dict[str, str] = {}
    dialect = ""
    if entity_mapping is not None and entity_mapping.driving_table:
        compiled = compile_from_clause(entity_mapping=entity_mapping)
        dialect = compiled.dialect
        for alias, info in compiled.scope.aliases.items():
            aliases.setdefault(info.name.lower(), alias)
    glossary = [
        (term, [s for s in synonyms.split(",") if s.strip()])
        for term, synonyms in engagement.glossary.values_list("term", "synonyms")
    ]
    return CatalogSuggestions(
        engagement=engagement, aliases=aliases, dialect=dialect, synonyms=synonym_map(glossary)
    )


def attribute_facts(attribute_mapping: AttributeMapping, contract: dict) -> AttributeFacts:
    entity = attribute_mapping.entity_mapping.entity_name
    attribute = contract.get((entity, attribute_mapping.attribute_name))
    return AttributeFacts(
        name=attribute_mapping.attribute_name,
        entity=entity,
        logical_type=attribute.logical_type if attribute else "",
        primary_key=bool(attribute and attribute.primary_key),
        business_name=attribute.business_name if attribute else "",
    )


def attribute_suggestions(
    *, attribute_mapping: AttributeMapping, limit: int = 5
) -> list[Suggestion]:
    entity_mapping = attribute_mapping.entity_mapping
    index = catalog_suggestions(engagement=entity_mapping.engagement, entity_mapping=entity_mapping)
    contract = contract_attributes(
        engagement=entity_mapping.engagement, entity_name=entity_mapping.entity_name
    )
    return index.suggest(attribute_facts(attribute_mapping, contract), limit=limit)


def entity_suggestions(
    *, entity_mapping: EntityMapping, limit: int = 3, only_unmapped: bool = True
) -> dict[int, list[Suggestion]]:
    """Suggestions for every (unmapped) attribute of an entity, the index read once."""
    index = catalog_suggestions(engagement=entity_mapping.engagement, entity_mapping=entity_mapping)
    contract = contract_attributes(
        engagement=entity_mapping.engagement, entity_name=entity_mapping.entity_name
    )
    mappings = entity_mapping.attributes.select_related("entity_mapping")
    if only_unmapped:
        mappings = mappings.filter(source_columns="", transformation="")
    return {m.pk: index.suggest(attribute_facts(m, contract), limit=limit) for m in mappings}
