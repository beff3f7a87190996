"""Suggestions for unmapped attributes: the catalog and glossary read once, then scored in memory."""

from __future__ import annotations

from catalog.models import CatalogColumn
from workbench.models import Engagement

from ..compiled import compile_from_clause
from ..models import AttributeMapping, EntityMapping
from ..suggestions import AttributeFacts, ColumnFacts, Suggestion, SuggestionIndex, synonym_map
from .mapping import contract_attributes


def suggestion_index(
    *, engagement: Engagement, entity_mapping: EntityMapping | None = None
) -> SuggestionIndex:
    """Every catalog column (one query) and the glossary's synonyms (one query).

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
    rows = CatalogColumn.objects.filter(engagement=engagement).values_list(
        "table__schema", "table__name", "name", "data_type", "is_primary_key", "profile__patterns"
    )
    columns = []
    for schema, table, name, data_type, is_pk, patterns in rows.iterator(chunk_size=5000):
        qualified = f"{schema}.{table}" if schema else table
        columns.append(
            ColumnFacts(
                table=qualified,
                column=name,
                data_type=data_type,
                is_primary_key=is_pk,
                patterns=tuple(p.get("pattern", "") for p in patterns or ()),
                alias=aliases.get(qualified.lower(), ""),
                dialect=dialect,
            )
        )
    glossary = [
        (term, [s for s in synonyms.split(",") if s.strip()])
        for term, synonyms in engagement.glossary.values_list("term", "synonyms")
    ]
    return SuggestionIndex(columns, synonym_map(glossary))


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
    index = suggestion_index(engagement=entity_mapping.engagement, entity_mapping=entity_mapping)
    contract = contract_attributes(
        engagement=entity_mapping.engagement, entity_name=entity_mapping.entity_name
    )
    return index.suggest(attribute_facts(attribute_mapping, contract), limit=limit)


def entity_suggestions(
    *, entity_mapping: EntityMapping, limit: int = 3, only_unmapped: bool = True
) -> dict[int, list[Suggestion]]:
    """Suggestions for every (unmapped) attribute of an entity, the catalog read once."""
    index = suggestion_index(engagement=entity_mapping.engagement, entity_mapping=entity_mapping)
    contract = contract_attributes(
        engagement=entity_mapping.engagement, entity_name=entity_mapping.entity_name
    )
    mappings = entity_mapping.attributes.select_related("entity_mapping")
    if only_unmapped:
        mappings = mappings.filter(source_columns="", transformation="")
    return {m.pk: index.suggest(attribute_facts(m, contract), limit=limit) for m in mappings}
