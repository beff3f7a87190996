"""The demo's mapping: the Marketing 360 contract mapped from the Acme Mart the way a Tech BA would,
with a review in progress around it — feasibility verdicts, an SME query, open comments.

`DEMO_MAPPING` is also the realistic, fully worked mapping the tests of later stages (ETL, test
runs, the workbook) reuse through `apply_demo_mapping`. The rules are portable SQL: they run on
SQLite, PostgreSQL and DuckDB alike.
"""

from __future__ import annotations

from django.contrib.auth.models import User

from workbench.demo import demo_step

from .choices import Feasibility, SmeReview
from .models import EntityMapping
from .services import mapping as services

# Dates arrive as YYYY-MM-DD, DD/MM/YYYY or YYYYMMDD text: rewrite them all to ISO first.
ISO_DATE = (
    "CASE WHEN {col} LIKE '__/__/____' THEN SUBSTRING({col}, 7, 4) || '-' || "
    "SUBSTRING({col}, 4, 2) || '-' || SUBSTRING({col}, 1, 2) "
    "WHEN LENGTH({col}) = 8 THEN SUBSTRING({col}, 1, 4) || '-' || SUBSTRING({col}, 5, 2) || '-' "
    "|| SUBSTRING({col}, 7, 2) ELSE {col} END"
)

# The Mart's four phone shapes (see catalog.demo_mart._phone) rewritten to E.164, the contract's
# pattern. Each LIKE names the whole shape (one `_` per character), so a number in any other
# shape stays NULL instead of loading something the pattern would refuse: SQLite, the Mart's
# engine, has no regular expressions to strip and check the digits with.
E164_PHONE = (
    "CASE WHEN c.phone LIKE '+44 ____ ______' THEN '+44' || SUBSTRING(c.phone, 5, 4) "
    "|| SUBSTRING(c.phone, 10, 6) "
    "WHEN c.phone LIKE '0044__________' THEN '+' || SUBSTRING(c.phone, 3, 12) "
    "WHEN c.phone LIKE '(0____) ___-___' THEN '+44' || SUBSTRING(c.phone, 3, 4) "
    "|| SUBSTRING(c.phone, 9, 3) || SUBSTRING(c.phone, 13, 3) "
    "WHEN c.phone LIKE '0__________' THEN '+44' || SUBSTRING(c.phone, 2, 10) END"
)

# entity -> (FROM clause, {attribute: rule}); a rule is (source column or transformation,
# default value, edge cases). A rule containing a space or a parenthesis is a transformation.
DEMO_MAPPING: dict[str, dict] = {
    "customer": {
        "from": {
            "driving_table": "crm_customer",
            "driving_alias": "c",
            "joins": "LEFT JOIN crm_subscription s ON s.customer_id = c.customer_id "
            "AND s.channel_code = 'EML'",
            "frequency": "daily",
            "notes": "One row per CRM customer, closed ones included (lifecycle stage churned): "
            "their addresses, subscriptions and e-mail events are kept too. Web sign-ups are "
            "duplicates until the golden-record project lands.",
        },
        "attributes": {
            "customer_id": ("CAST(c.customer_id AS VARCHAR)", "", ""),
            "source_customer_key": ("c.source_customer_ref", "UNKNOWN", ""),
            "first_name": ("TRIM(c.first_name)", "", ""),
            "last_name": ("TRIM(c.last_name)", "", ""),
            "email": ("LOWER(TRIM(c.email))", "", "NULL email stays NULL (about 4%)."),
            "phone": (
                E164_PHONE,
                "",
                "Four formats (+44 7700 900123, 07700900123, (07700) 900-123, 00447700900123) "
                "rewritten to E.164; none given or any other shape → NULL.",
            ),
            "birth_date": (
                f"CAST({ISO_DATE.format(col='c.birth_date')} AS DATE)",
                "",
                "Three text formats in the Mart.",
            ),
            "gender": (
                "CASE UPPER(c.gender) WHEN 'F' THEN 'F' WHEN 'M' THEN 'M' ELSE 'U' END",
                "",
                "NULL and unknown codes → U.",
            ),
            "lifecycle_stage": (
                "CASE UPPER(c.status) WHEN 'ACTIVE' THEN 'active' WHEN 'INACTIVE' THEN 'lapsed' "
                "WHEN 'CLOSED' THEN 'churned' ELSE 'prospect' END",
                "",
                "NULL status → prospect.",
            ),
            "email_opt_in": (
                "CASE WHEN UPPER(s.opt_in_flag) IN ('Y', '1', 'YES') THEN TRUE ELSE FALSE END",
                "",
                "No email subscription row → not opted in.",
            ),
            "created_at": ("CAST(c.created_at AS TIMESTAMP)", "", ""),
            "updated_at": ("CAST(COALESCE(c.updated_at, c.created_at) AS TIMESTAMP)", "", ""),
        },
    },
    "customer_address": {
        "from": {"driving_table": "crm_customer_address", "driving_alias": "ad"},
        "attributes": {
            "address_id": ("CAST(ad.address_id AS VARCHAR)", "", ""),
            "customer_id": ("CAST(ad.customer_id AS VARCHAR)", "", ""),
            "address_type": (
                "CASE UPPER(ad.address_type) WHEN 'BILLING' THEN 'billing' "
                "WHEN 'DELIVERY' THEN 'shipping' ELSE 'home' END",
                "",
                "Work addresses are loaded as home.",
            ),
            "line_1": ("ad.line_1", "", ""),
            "line_2": ("ad.line_2", "", ""),
            "city": ("ad.city", "", ""),
            "postal_code": ("UPPER(TRIM(ad.postcode))", "", ""),
            "country_code": (
                "CASE UPPER(ad.country_code) WHEN 'UK' THEN 'GB' ELSE UPPER(ad.country_code) END",
                "GB",
                "UK → GB; missing → GB.",
            ),
            "is_primary": ('CASE WHEN ad."order" = 1 THEN TRUE ELSE FALSE END', "", ""),
        },
    },
    "campaign": {
        "from": {"driving_table": "mkt_campaign", "driving_alias": "m"},
        "attributes": {
            "campaign_id": ("CAST(m.campaign_id AS VARCHAR)", "", ""),
            "campaign_code": (
                "COALESCE(m.campaign_code, 'CMP-NONE-' || CAST(m.campaign_id AS VARCHAR))",
                "",
                "Code missing in the Mart (one campaign in nine) → CMP-NONE-<campaign id>: the "
                "code is required and unique, so one shared placeholder would not do.",
            ),
            "name": ("m.campaign_name", "", ""),
            "channel": (
                "CASE m.channel_code WHEN 'EML' THEN 'email' WHEN 'SMS' THEN 'sms' "
                "WHEN 'WEB' THEN 'web' WHEN 'STR' THEN 'store' WHEN 'PSO' THEN 'paid_social' "
                "WHEN 'DM' THEN 'direct_mail' END",
                "web",
                "Paid search (PSE) and app push (APP) have no interface value yet → web.",
            ),
            "start_date": ("CAST(m.start_date AS DATE)", "", ""),
            "end_date": ("CAST(m.end_date AS DATE)", "", ""),
            "budget_amount": ("m.budget_gbp", "", ""),
        },
    },
    "email_event": {
        "from": {
            "driving_table": "mkt_email_event",
            "driving_alias": "e",
            "filter": "e.customer_id IS NOT NULL AND e.campaign_id IS NOT NULL",
            "frequency": "0 * * * *",
            "load_strategy": "append",
            "watermark": "event_ts",
            "notes": "Events without a customer or a campaign (about one in ten) are left out: "
            "both are required and must name a loaded row.",
        },
        "attributes": {
            "event_id": ("CAST(e.event_id AS VARCHAR)", "", ""),
            "customer_id": ("CAST(e.customer_id AS VARCHAR)", "", ""),
            "campaign_id": (
                "CAST(e.campaign_id AS VARCHAR)",
                "",
                "No campaign in the Mart → the event is filtered out (no placeholder campaign).",
            ),
            "event_type": (
                "CASE UPPER(e.event_type) WHEN 'SENT' THEN 'sent' WHEN 'OPEN' THEN 'opened' "
                "WHEN 'CLICK' THEN 'clicked' WHEN 'BOUNCE' THEN 'bounced' "
                "WHEN 'UNSUB' THEN 'unsubscribed' END",
                "",
                "Event types arrive in mixed case.",
            ),
            "event_ts": ("CAST(e.event_ts AS TIMESTAMP)", "", ""),
            "email_address": ("LOWER(TRIM(e.email_address))", "", ""),
            "link_url": ("e.link_url", "", ""),
        },
    },
    "subscription": {
        "from": {"driving_table": "crm_subscription", "driving_alias": "s"},
        "attributes": {
            "subscription_id": ("CAST(s.subscription_id AS VARCHAR)", "", ""),
            "customer_id": ("CAST(s.customer_id AS VARCHAR)", "", ""),
        },
    },
}


def _is_direct(rule: str) -> bool:
    return " " not in rule and "(" not in rule


def apply_demo_mapping(engagement, acting_user: User, entities: list[str] | None = None) -> None:
    """Write the demo mapping through the services (validated, with history)."""
    services.mapping_prepare(engagement=engagement, acting_user=acting_user)
    for entity_name, spec in DEMO_MAPPING.items():
        if entities is not None and entity_name not in entities:
            continue
        entity = EntityMapping.objects.get(engagement=engagement, entity_name=entity_name)
        entity = services.entity_mapping_update(
            entity_mapping=entity, data=spec["from"], acting_user=acting_user
        )
        for attribute_name, (rule, default, edge_cases) in spec["attributes"].items():
            data = {"default_value": default, "edge_cases": edge_cases}
            data["source_columns" if _is_direct(rule) else "transformation"] = rule
            services.attribute_mapping_update(
                attribute_mapping=entity.attributes.get(attribute_name=attribute_name),
                data=data,
                acting_user=acting_user,
            )


@demo_step
def demo_mapping(engagement, users) -> None:
    """Runs after the contract and the catalog demo steps (app order in INSTALLED_APPS)."""
    customer = EntityMapping.objects.filter(engagement=engagement, entity_name="customer").first()
    if customer is not None and customer.driving_table:
        return
    apply_demo_mapping(engagement, users["ba"])
    _review_in_progress(engagement, users)


def _review_in_progress(engagement, users) -> None:
    entities = {e.entity_name: e for e in EntityMapping.objects.filter(engagement=engagement)}
    attribute = {
        (e.entity_name, a.attribute_name): a for e in entities.values() for a in e.attributes.all()
    }
    etl, sme, ba = users["etl"], users["sme"], users["ba"]
    for name in ("customer", "customer_address", "email_event"):
        services.feasibility_set(
            mapping=entities[name], verdict=Feasibility.FEASIBLE, comment="", acting_user=etl
        )
    services.feasibility_set(
        mapping=attribute[("customer", "phone")],
        verdict=Feasibility.CONCERNS,
        comment="Five phone formats; E.164 normalisation needs a function on the target.",
        acting_user=etl,
    )
    services.feasibility_set(
        mapping=attribute[("campaign", "channel")],
        verdict=Feasibility.CONCERNS,
        comment="Paid search and app push have no value in the contract's channel list.",
        acting_user=etl,
    )
    for name in ("customer_id", "email", "first_name", "last_name"):
        services.sme_review_set(
            attribute_mapping=attribute[("customer", name)],
            state=SmeReview.AGREED,
            acting_user=sme,
        )
    services.sme_review_set(
        attribute_mapping=attribute[("customer", "lifecycle_stage")],
        state=SmeReview.QUERY_RAISED,
        comment="@ba Inactive customers should be 'lapsed' only after 12 months; can we see the "
        "last order date?",
        acting_user=sme,
    )
    question = services.comment_add(
        mapping=entities["subscription"],
        text="@sme Which Mart field holds the subscription plan? I only see channel opt-ins.",
        acting_user=ba,
    )
    services.comment_add(
        mapping=entities["subscription"],
        text="Plans live in the billing system, not the Mart. Let's discuss on Thursday.",
        parent=question,
        acting_user=sme,
    )
