"""The contract's part of the demo: the Marketing 360 contract, imported and published by the
Tech BA, and a few Interface Understanding Notes. Idempotent."""

from __future__ import annotations

from pathlib import Path

from workbench.demo import demo_step

from . import selectors, services
from .models import InterfaceLayer, InterfaceNote

DEMO_CONTRACT = Path(__file__).resolve().parent / "demo" / "marketing_360.odcs.yaml"

NOTES = [
    (
        "customer",
        "",
        "The golden record: the Mart has one row per source account, so we must resolve "
        "duplicates (same e-mail or loyalty card) before loading. Grain check with the SME.",
    ),
    (
        "customer",
        "lifecycle_stage",
        "Derived, not stored in the Mart: compute from the first and last order dates. "
        "Thresholds (90 days, 12 and 24 months) confirmed in the kick-off.",
    ),
    (
        "email_event",
        "event_type",
        "The ESP export says 'hard_bounce'/'soft_bounce'; both become 'bounced'.",
    ),
]


@demo_step
def demo_contract(engagement, users) -> None:
    ba = users["ba"]
    content = DEMO_CONTRACT.read_bytes()
    layer = InterfaceLayer.objects.filter(engagement=engagement, name="Marketing 360").first()
    if layer is None:
        layer = services.contract_import(
            engagement=engagement, file_name=DEMO_CONTRACT.name, content=content, acting_user=ba
        )
    if selectors.published_layer(engagement=engagement) is None:
        services.contract_publish(layer=layer, acting_user=ba)
    existing = set(
        InterfaceNote.objects.filter(engagement=engagement).values_list(
            "entity_name", "attribute_name"
        )
    )
    for entity_name, attribute_name, text in NOTES:
        if (entity_name, attribute_name) not in existing:
            services.note_create(
                engagement=engagement,
                entity_name=entity_name,
                attribute_name=attribute_name,
                text=text,
                acting_user=ba,
            )
