"""The stored suggestion index gives the suggestions the in-memory matcher gave over the whole
catalog, and follows every way a catalog changes.

The reference (`suggestions_in_memory`) is the selector as it was before the index: every column
of the engagement read into a `SuggestionIndex`. Both are asked about every attribute of every
entity of the demo contract, over the demo Mart (profiled) plus an imported catalog of 2,400
columns whose common words (`id`, `customer`) are in more columns than the shortlist takes.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from catalog.models import CatalogColumn, SuggestionName, SuggestionWord
from catalog.services import sources as catalog_services
from catalog.services.ddl_import import catalog_import_csv, catalog_import_ddl
from catalog.services.suggestion_index import suggestion_index_rebuild
from mappings.compiled import compile_from_clause
from mappings.models import EntityMapping
from mappings.selectors.mapping import contract_attributes
from mappings.selectors.suggestions import (
    attribute_facts,
    catalog_suggestions,
    entity_suggestions,
)
from mappings.services import mapping as services
from mappings.suggestions import COMMON, ColumnFacts, SuggestionIndex, normalise, synonym_map

from ..factories import GlossaryTermFactory

index_every_catalog = importlib.import_module(
    "catalog.migrations.0007_suggestion_name_keeps_its_first_columns"
).index_every_catalog

DRIVING = {
    "customer": (
        "crm_customer",
        "c",
        "LEFT JOIN crm_customer_address a ON a.customer_id = c.customer_id",
    ),
    "customer_address": ("crm_customer_address", "ad", ""),
    "subscription": ("crm_subscription", "s", ""),
    "campaign": ("mkt_campaign", "m", ""),
    "email_event": ("mkt_email_event", "e", ""),
}
# Names a Mart repeats across its staging tables: abbreviations, synonyms, words in common.
STAGING_COLUMNS = [
    ("customer_id", "INTEGER"),
    ("cust_id", "INTEGER"),
    ("client_ref", "VARCHAR(20)"),
    ("party_key", "INTEGER"),
    ("id", "INTEGER"),
    ("campaign_id", "INTEGER"),
    ("event_id", "BIGINT"),
    ("address_id", "INTEGER"),
    ("subscription_id", "INTEGER"),
    ("src_customer_nk", "VARCHAR(40)"),
    ("email_addr", "VARCHAR(200)"),
    ("customer_email", "VARCHAR(200)"),
    ("first_nm", "VARCHAR(80)"),
    ("last_name", "VARCHAR(80)"),
    ("phone_no", "VARCHAR(30)"),
    ("birth_dt", "DATE"),
    ("created_ts", "TIMESTAMP"),
    ("upd_ts", "TIMESTAMP"),
    ("status_cd", "CHAR(2)"),
    ("country_cd", "CHAR(2)"),
    ("postcode", "VARCHAR(10)"),
    ("addr_line_1", "VARCHAR(100)"),
    ("city", "VARCHAR(80)"),
    ("start_dt", "DATE"),
    ("end_dt", "DATE"),
    ("chnl_cd", "VARCHAR(10)"),
    ("budget_amt", "DECIMAL(12,2)"),
    ("evt_type", "VARCHAR(20)"),
    ("the_of", "INTEGER"),  # no word left once stop words go
    ("gender", "CHAR(1)"),
]


def in_memory_index(entity_mapping: EntityMapping) -> SuggestionIndex:
    """The reference: every catalog column read and indexed in memory (the former selector)."""
    engagement = entity_mapping.engagement
    aliases: dict[str, str] = {}
    dialect = ""
    if entity_mapping.driving_table:
        compiled = compile_from_clause(entity_mapping=entity_mapping)
        dialect = compiled.dialect
        for alias, info in compiled.scope.aliases.items():
            aliases.setdefault(info.name.lower(), alias)
    rows = CatalogColumn.objects.filter(engagement=engagement).values_list(
        "pk",
        "table__schema",
        "table__name",
        "name",
        "data_type",
        "is_primary_key",
        "profile__patterns",
    )
    columns = []
    for pk, schema, table, name, data_type, is_pk, patterns in rows:
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
                pk=pk,
            )
        )
    glossary = [
        (term, [s for s in synonyms.split(",") if s.strip()])
        for term, synonyms in engagement.glossary.values_list("term", "synonyms")
    ]
    return SuggestionIndex(columns, synonym_map(glossary))


def suggestions_in_memory(entity_mapping: EntityMapping, *, limit: int) -> dict[int, list]:
    index = in_memory_index(entity_mapping)
    contract = contract_attributes(
        engagement=entity_mapping.engagement, entity_name=entity_mapping.entity_name
    )
    return {
        m.pk: index.suggest(attribute_facts(m, contract), limit=limit)
        for m in entity_mapping.attributes.select_related("entity_mapping")
    }


def shown(suggestions: dict[int, list]) -> dict[int, list]:
    return {pk: [(s.column.pk, s.as_dict()) for s in ranked] for pk, ranked in suggestions.items()}


def assert_same_as_in_memory(engagement, *, limit: int = 5) -> int:
    """Every entity's suggestions, stored index vs reference; returns how many were compared."""
    compared = 0
    for entity in EntityMapping.objects.filter(engagement=engagement):
        stored = entity_suggestions(entity_mapping=entity, limit=limit, only_unmapped=False)
        expected = suggestions_in_memory(entity, limit=limit)
        assert shown(stored) == shown(expected), entity.entity_name
        compared += sum(len(ranked) for ranked in expected.values())
    return compared


def indexed_rows(source, *, with_keys: bool = True) -> list[tuple]:
    """A source's suggestion index as rows; with their keys, a rebuild shows as a change."""
    fields = ["words", "column_count", "first_columns"]
    rows = SuggestionName.objects.filter(source=source).values_list(
        *(["pk"] if with_keys else []), *fields
    )
    return sorted(rows, key=repr)


def staging_csv(tables: int) -> str:
    lines = ["Schema|Table|Column|Data Type|Nullable|Primary Key|References|Description"]
    for t in range(tables):
        schema = "stg" if t % 2 else "raw"
        for name, data_type in STAGING_COLUMNS:
            lines.append(f"{schema}|stg_feed_{t:03}|{name}|{data_type}|Y|N||")
    return "\n".join(lines)


@pytest.fixture
def mapped(prepared, profiled, ba):  # noqa: F811 - fixtures from tests.catalog
    """The demo engagement with every entity's FROM clause written and a glossary."""
    GlossaryTermFactory(engagement=prepared, term="Customer", synonyms="client, party")
    GlossaryTermFactory(engagement=prepared, term="Channel", synonyms="medium")
    for entity_name, (table, alias, joins) in DRIVING.items():
        services.entity_mapping_update(
            entity_mapping=prepared.entity_mappings.get(entity_name=entity_name),
            data={"driving_table": table, "driving_alias": alias, "joins": joins},
            acting_user=ba,
        )
    return prepared


def test_the_stored_index_suggests_what_the_whole_catalog_in_memory_did(mapped, ba):
    # given the demo Mart and a staging catalog where `id` and `customer` are common words
    catalog_import_csv(
        engagement=mapped, source_name="Archive", text=staging_csv(100), acting_user=ba
    )
    assert SuggestionName.objects.filter(words="id").get().column_count == 100
    # when every attribute asks for suggestions, then each gets what the full matcher gave
    assert assert_same_as_in_memory(mapped) > 100
    # and each attribute's shortlist is the same columns, words in more than 500 columns too
    common = 0
    for entity in EntityMapping.objects.filter(engagement=mapped):
        reference = in_memory_index(entity)
        stored = catalog_suggestions(engagement=mapped, entity_mapping=entity)
        for name in entity.attributes.values_list("attribute_name", flat=True):
            wanted = frozenset(normalise(name, reference.synonyms))
            expected = {reference.columns[i].pk for i in reference._shortlist(wanted)}
            assert stored.shortlist(wanted) == expected, name
            common += min(len(reference.by_word.get(w, ())) for w in wanted) > 500
    assert common  # some attribute's rarest word is in more columns than the shortlist takes


def test_the_index_follows_every_catalog_write(mapped, ba, source):  # noqa: F811
    ddl = "CREATE TABLE crm_contact (contact_id INT PRIMARY KEY, email_address VARCHAR(200));"
    catalog_import_ddl(engagement=mapped, source_name="Contacts", text=ddl, acting_user=ba)
    assert assert_same_as_in_memory(mapped)

    # a renamed column, a dropped table and a new one
    ddl = (
        "CREATE TABLE crm_contact (contact_id INT PRIMARY KEY, mail VARCHAR(200));"
        "CREATE TABLE crm_party (party_id INT, birth_dt DATE);"
    )
    catalog_import_ddl(engagement=mapped, source_name="Contacts", text=ddl, acting_user=ba)
    assert not SuggestionWord.objects.filter(word="address", source__name="Contacts").exists()
    email = mapped.entity_mappings.get(entity_name="email_event")
    names = [
        s.column.column
        for ranked in entity_suggestions(entity_mapping=email, limit=20).values()
        for s in ranked
    ]
    assert "mail" in names and "email_address" in names  # the Mart's own stays
    assert assert_same_as_in_memory(mapped)

    # a CSV list replaces the DDL's catalog; its columns move
    csv = staging_csv(1).replace("stg_feed_000", "crm_contact")
    catalog_import_csv(engagement=mapped, source_name="Contacts", text=csv, acting_user=ba)
    assert assert_same_as_in_memory(mapped)

    # re-introspecting an unchanged Mart keeps its index as it was
    before = indexed_rows(source)
    catalog_services.catalog_introspect(source=source, acting_user=ba)
    assert indexed_rows(source) == before

    # a deleted source leaves nothing behind and suggests nothing
    contacts = mapped.sources.get(name="Contacts")
    catalog_services.source_system_delete(source=contacts, acting_user=ba)
    assert not SuggestionName.objects.filter(source_id=contacts.pk).exists()
    assert not SuggestionWord.objects.filter(source_id=contacts.pk).exists()
    assert assert_same_as_in_memory(mapped)


def test_a_catalog_stored_before_the_index_took_its_shape_is_indexed_by_the_migration(
    mapped,
    ba,
    source,  # noqa: F811
    django_assert_max_num_queries,
):
    # given a catalog stored before the index took its shape, beside one indexed as it is
    catalog_import_csv(
        engagement=mapped, source_name="Archive", text=staging_csv(3), acting_user=ba
    )
    archive = mapped.sources.get(name="Archive")
    archived = indexed_rows(archive, with_keys=False)
    SuggestionWord.objects.filter(source=source).delete()
    SuggestionName.objects.filter(source=source).delete()
    email = mapped.entity_mappings.get(entity_name="email_event")

    # then asking for suggestions only reads: it writes no index
    with django_assert_max_num_queries(40) as captured:  # two sources' reads
        entity_suggestions(entity_mapping=email)
    assert not [q for q in captured.captured_queries if "INSERT" in q["sql"].upper()]
    assert not SuggestionName.objects.filter(source=source).exists()

    # when the data migration runs, then it indexes that catalog, and the other one as it was
    index_every_catalog(django_apps, None)
    indexed = sum(count for _words, count, _first in indexed_rows(source, with_keys=False))
    assert indexed == CatalogColumn.objects.filter(table__source=source).count() > 0
    assert indexed_rows(archive, with_keys=False) == archived
    assert assert_same_as_in_memory(mapped)


def test_a_name_in_more_columns_than_a_suggestion_reads_keeps_its_first_ones(mapped, ba):
    # given an archive of 600 feeds, so `id` and `customer id` each name 600 columns
    catalog_import_csv(
        engagement=mapped, source_name="Archive", text=staging_csv(600), acting_user=ba
    )
    customer_id = SuggestionName.objects.get(source__name="Archive", words="customer id")
    assert customer_id.column_count == 1200 > COMMON  # customer_id and cust_id
    # then the name keeps the first COMMON of them, in catalog order
    ordinals = [ordinal for ordinal, _column in customer_id.first_columns]
    assert len(ordinals) == COMMON and ordinals == sorted(ordinals)
    first_table = CatalogColumn.objects.get(pk=customer_id.first_columns[0][1]).table
    assert (first_table.schema, first_table.name) == ("raw", "stg_feed_000")
    # and every attribute is suggested what the whole catalog in memory suggests
    assert assert_same_as_in_memory(mapped)


def test_a_first_store_indexes_its_columns_as_a_rebuild_from_the_stored_catalog_would(mapped, ba):
    # given a first store of tables whose names a database collation may order otherwise than
    # code points do (capitals, underscores, accents), where one name fills more columns than
    # an index name keeps
    lines = ["Schema|Table|Column|Data Type|Nullable|Primary Key|References|Description"]
    tables = [("raw", "zeta_feed"), ("Raw", "Alpha"), ("raw", "_base"), ("", "émission")]
    for t in range(COMMON // 2 + 1):
        schema, name = tables[t % len(tables)]
        for column in ("Customer_ID", "customer id", "_id", "Étiquette"):
            lines.append(f"{schema}|{name}_{t}|{column}|VARCHAR(20)|Y|N||")
    catalog_import_csv(
        engagement=mapped, source_name="Archive", text="\n".join(lines), acting_user=ba
    )
    archive = mapped.sources.get(name="Archive")
    first_store = indexed_rows(archive, with_keys=False)
    customer_id = SuggestionName.objects.get(source=archive, words="customer id")
    assert customer_id.column_count == 2 * (COMMON // 2 + 1) > COMMON

    # when the index is rebuilt from the catalog as stored
    suggestion_index_rebuild(source=archive)

    # then it is the same index: the same names, counts, first columns and their order
    assert indexed_rows(archive, with_keys=False) == first_store
    assert assert_same_as_in_memory(mapped)
