"""The demo's source understanding: the Acme Mart registered, introspected and profiled by the demo
Tech BA, with subject areas, grain and notes on the main tables, and the impacted entities drafted.
Idempotent: a second run finds everything in place and changes nothing."""

from __future__ import annotations

import re

from contracts.selectors import published_entity_names
from workbench.demo import demo_step

from .demo_mart import ensure_demo_mart
from .models import ImpactedEntity, SourceSystem
from .services import sources as catalog_services
from .services.profiling import catalog_profile

DEMO_SOURCE = "Acme Marketing Data Mart"

UNDERSTANDING = {
    "crm_customer": {
        "subject_area": "customer",
        "grain": "One row per CRM customer record (duplicates across CRM and web sign-ups exist).",
        "derivation_notes": "status is maintained by the CRM nightly job; email is not normalised.",
        "gap_notes": "No golden customer id: duplicates share name and email in another case. "
        "birth_date is text in three formats.",
    },
    "crm_customer_address": {
        "subject_area": "customer",
        "grain": 'One row per customer address; "order" 1 is the primary address.',
        "gap_notes": "country_code mixes GB and UK; postcodes are not normalised.",
    },
    "crm_subscription": {
        "subject_area": "customer",
        "grain": "One row per customer and channel subscription.",
        "gap_notes": "opt_in_flag uses Y/1/yes and N/0/NULL; consent timestamp is a date only.",
    },
    "mkt_campaign": {
        "subject_area": "campaign",
        "grain": "One row per campaign.",
        "derivation_notes": "channel_group is already derived from ref_channel by the Mart.",
        "gap_notes": "Some campaigns have no campaign_code.",
    },
    "mkt_email_event": {
        "subject_area": "events",
        "grain": "One row per email event (sent, open, click, bounce, unsubscribe).",
        "gap_notes": "campaign_code is missing on about 15% of events; event_type case varies.",
    },
    "ref_channel": {"subject_area": "reference", "grain": "One row per channel code."},
}

# table -> interface entity names it will feed (matched loosely to a published contract's names)
IMPACTED = {
    "crm_customer": ["Customer"],
    "crm_customer_address": ["CustomerAddress", "Address"],
    "crm_subscription": ["ConsentPreference", "Consent", "Subscription"],
    "mkt_campaign": ["Campaign"],
    "mkt_email_event": ["Touchpoint", "EmailEvent", "Interaction"],
}

COLUMN_NOTES = {
    ("crm_customer", "email"): "Lower-case and trim before matching; about 4% are NULL.",
    ("crm_customer", "phone"): "Five formats seen (+44, 0044, 07…, brackets); normalise to E.164.",
    (
        "mkt_email_event",
        "campaign_code",
    ): "Fall back to mkt_campaign.campaign_code via campaign_id.",
}


@demo_step
def demo_source_understanding(engagement, users) -> None:
    ba = users["ba"]
    source = SourceSystem.objects.filter(engagement=engagement, name=DEMO_SOURCE).first()
    if source is None:
        path = ensure_demo_mart()
        source = catalog_services.source_system_create(
            engagement=engagement, name=DEMO_SOURCE, url=f"sqlite:///{path}", acting_user=ba
        )
    if not source.tables.exists():
        ensure_demo_mart()
        catalog_services.catalog_introspect(source=source, acting_user=ba)
        catalog_profile(source=source, acting_user=ba)
    tables = {t.name: t for t in source.tables.all()}
    for name, data in UNDERSTANDING.items():
        table = tables.get(name)
        if table is not None and not (table.subject_area or table.grain):
            catalog_services.table_understanding_update(table=table, data=data, acting_user=ba)
    for (table_name, column_name), note in COLUMN_NOTES.items():
        column = tables[table_name].columns.filter(name=column_name).first()
        if column is not None and not column.notes:
            catalog_services.column_notes_update(column=column, notes=note, acting_user=ba)
    if ImpactedEntity.objects.filter(table__source=source).exists():
        return
    published = published_entity_names(engagement=engagement)
    for table_name, candidates in IMPACTED.items():
        impacted_table = tables.get(table_name)
        name = _pick(candidates, published)
        if impacted_table is not None and name:
            catalog_services.impacted_entity_add(
                table=impacted_table, entity_name=name, acting_user=ba
            )


def _pick(candidates: list[str], published: list[str]) -> str:
    """The first candidate, or when a contract is published the first of its names that matches."""
    if not published:
        return candidates[0]

    def norm(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    by_norm = {norm(name): name for name in published}
    for candidate in candidates:
        if norm(candidate) in by_norm:
            return by_norm[norm(candidate)]
    return ""
