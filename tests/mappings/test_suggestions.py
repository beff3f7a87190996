"""Suggestions rank the right source column first for most attributes of a realistic Mart.

The labelled set below is the mapping an experienced BA made of the demo contract onto the demo
Mart; the test states the share of attributes whose first suggestion is that column.
"""

from __future__ import annotations

from mappings.selectors.suggestions import attribute_suggestions, entity_suggestions
from mappings.services import mapping as services
from mappings.suggestions import (
    AttributeFacts,
    ColumnFacts,
    SuggestionIndex,
    normalise,
    synonym_map,
)

DRIVING = {
    "customer": ("crm_customer", "c"),
    "customer_address": ("crm_customer_address", "ad"),
    "subscription": ("crm_subscription", "s"),
    "campaign": ("mkt_campaign", "m"),
    "email_event": ("mkt_email_event", "e"),
}

LABELLED = {
    ("customer", "customer_id"): "crm_customer.customer_id",
    ("customer", "source_customer_key"): "crm_customer.source_customer_ref",
    ("customer", "first_name"): "crm_customer.first_name",
    ("customer", "last_name"): "crm_customer.last_name",
    ("customer", "email"): "crm_customer.email",
    ("customer", "phone"): "crm_customer.phone",
    ("customer", "birth_date"): "crm_customer.birth_date",
    ("customer", "gender"): "crm_customer.gender",
    ("customer", "created_at"): "crm_customer.created_at",
    ("customer", "updated_at"): "crm_customer.updated_at",
    ("customer", "email_opt_in"): "crm_subscription.opt_in_flag",
    ("customer", "lifecycle_stage"): "crm_customer.status",
    ("customer_address", "address_id"): "crm_customer_address.address_id",
    ("customer_address", "customer_id"): "crm_customer_address.customer_id",
    ("customer_address", "address_type"): "crm_customer_address.address_type",
    ("customer_address", "line_1"): "crm_customer_address.line_1",
    ("customer_address", "line_2"): "crm_customer_address.line_2",
    ("customer_address", "city"): "crm_customer_address.city",
    ("customer_address", "postal_code"): "crm_customer_address.postcode",
    ("customer_address", "country_code"): "crm_customer_address.country_code",
    ("subscription", "subscription_id"): "crm_subscription.subscription_id",
    ("subscription", "customer_id"): "crm_subscription.customer_id",
    ("subscription", "start_date"): "crm_subscription.opt_in_date",
    ("subscription", "end_date"): "crm_subscription.opt_out_date",
    ("campaign", "campaign_id"): "mkt_campaign.campaign_id",
    ("campaign", "campaign_code"): "mkt_campaign.campaign_code",
    ("campaign", "name"): "mkt_campaign.campaign_name",
    ("campaign", "channel"): "mkt_campaign.channel_code",
    ("campaign", "start_date"): "mkt_campaign.start_date",
    ("campaign", "end_date"): "mkt_campaign.end_date",
    ("campaign", "budget_amount"): "mkt_campaign.budget_gbp",
    ("email_event", "event_id"): "mkt_email_event.event_id",
    ("email_event", "customer_id"): "mkt_email_event.customer_id",
    ("email_event", "campaign_id"): "mkt_email_event.campaign_id",
    ("email_event", "event_type"): "mkt_email_event.event_type",
    ("email_event", "event_ts"): "mkt_email_event.event_ts",
    ("email_event", "email_address"): "mkt_email_event.email_address",
    ("email_event", "link_url"): "mkt_email_event.link_url",
}


def test_the_right_column_comes_first_for_most_attributes(prepared, profiled, ba):
    firsts, misses = 0, []
    for entity_name, (table, alias) in DRIVING.items():
        entity = prepared.entity_mappings.get(entity_name=entity_name)
        entity = services.entity_mapping_update(
            entity_mapping=entity,
            data={"driving_table": table, "driving_alias": alias},
            acting_user=ba,
        )
        suggestions = entity_suggestions(entity_mapping=entity, limit=3)
        for mapping in entity.attributes.all():
            expected = LABELLED.get((entity_name, mapping.attribute_name))
            if expected is None:
                continue
            ranked = [f"{s.column.table}.{s.column.column}" for s in suggestions[mapping.pk]]
            if ranked and ranked[0] == expected:
                firsts += 1
            else:
                misses.append((entity_name, mapping.attribute_name, expected, ranked[:2]))
    share = firsts / len(LABELLED)
    print(f"suggestion quality: right column first for {firsts}/{len(LABELLED)} = {share:.0%}")
    assert share >= 0.8, misses


def test_a_suggestion_carries_its_score_reasons_and_alias(customer):
    email = customer.attributes.get(attribute_name="email")
    [first, *_] = attribute_suggestions(attribute_mapping=email)
    assert first.column.reference == "c.email"
    assert "same name" in first.reasons
    assert "in the entity's table crm_customer (c)" in first.reasons
    assert 0 < first.score <= 1


def test_abbreviations_and_glossary_synonyms_count_as_the_same_word():
    synonyms = synonym_map([("Customer", ["client", "party"])])
    assert normalise("cust_addr_line1") == {"customer", "address", "line", "1"}
    assert normalise("client_id", synonyms) == {"customer", "id"}


def test_a_large_catalog_is_only_scored_where_words_meet():
    columns = [ColumnFacts(table=f"t{i}", column=f"col_{i}_value") for i in range(20_000)]
    columns.append(ColumnFacts(table="crm", column="email_address", patterns=("email",)))
    index = SuggestionIndex(columns)
    [best] = index.suggest(AttributeFacts(name="email", entity="customer"), limit=1)
    assert best.column.column == "email_address"
    assert "values look like email addresses" in best.reasons
