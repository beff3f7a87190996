"""Sign-off at the design's scale (issue 6): a mapping of 200 entities × 100 attributes (20,000
attribute mappings), approved as spec version 1, then one attribute changed.

- Freezing the current snapshot and its SHA-256 hash vs a bare read of the same 20,000 rows'
  spec fields (the floor); budget 8x.
- "Changed since sign-off" (snapshot, approval, field diff of 20,000 attributes) vs the same
  floor; budget 12x.
- The sign-off overview page rendered through Django's test client; budget 3 s.
Runs in a scratch database of its own, dropped at the end.
"""

from __future__ import annotations

from bench.common import Result, scratch_database, timed

ENTITIES, ATTRIBUTES = 200, 100


def run() -> list[Result]:
    with scratch_database("bench_signoff"):
        world = _build_world()
        return _measure(world)


def _build_world() -> dict:
    from django.contrib.auth import get_user_model

    from mappings.models import AttributeMapping, EntityMapping
    from signoff import services
    from signoff.choices import Gate
    from workbench.choices import Role, SignoffGate
    from workbench.models import Engagement, Membership, SignoffOwner

    User = get_user_model()
    ba = User.objects.create_user("bench-ba", password="bench-pass-123")
    sme = User.objects.create_user("bench-sme", password="bench-pass-123")
    engagement = Engagement.objects.create(slug="bench-signoff", name="Bench", created_by=ba)
    Membership.objects.create(engagement=engagement, user=ba, role=Role.TECH_BA)
    Membership.objects.create(engagement=engagement, user=sme, role=Role.CLIENT_SME)
    SignoffOwner.objects.create(engagement=engagement, gate=SignoffGate.MAPPING, user=sme)
    entities = EntityMapping.objects.bulk_create(
        [
            EntityMapping(
                engagement=engagement,
                entity_name=f"entity_{e:03}",
                driving_table=f"mart_{e:03}",
                driving_alias="t",
                joins=f"LEFT JOIN ref_{e:03} r ON r.id = t.ref_id",
                status="mapped",
            )
            for e in range(ENTITIES)
        ]
    )
    AttributeMapping.objects.bulk_create(
        [
            AttributeMapping(
                engagement=engagement,
                entity_mapping=entity,
                attribute_name=f"attr_{a:03}",
                transformation=f"UPPER(TRIM(t.col_{a:03}))" if a % 2 else "",
                source_columns="" if a % 2 else f"r.col_{a:03}",
                lineage=[f"t.col_{a:03}"] if a % 2 else [f"r.col_{a:03}"],
                lineage_tables=[entity.driving_table],
                edge_cases="NULL stays NULL." if a % 10 == 0 else "",
                status="mapped",
            )
            for entity in entities
            for a in range(ATTRIBUTES)
        ],
        batch_size=5000,
    )
    review = services.do_submit_for_review(engagement=engagement, gate=Gate.MAPPING, acting_user=ba)
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    changed = AttributeMapping.objects.filter(engagement=engagement).first()
    changed.transformation = "LOWER(t.col_000)"
    changed.save()
    return {"engagement": engagement, "sme": sme}


def _measure(world: dict) -> list[Result]:
    from django.test import Client

    from mappings.models import AttributeMapping
    from signoff import selectors

    engagement = world["engagement"]

    def floor():
        return list(
            AttributeMapping.objects.filter(engagement=engagement).values_list(
                "entity_mapping_id", "attribute_name", *selectors.ATTRIBUTE_SPEC_FIELDS
            )
        )

    def freeze():
        selectors.content_hash(selectors.current_snapshot(engagement=engagement))

    def changed():
        result = selectors.changed_since_signoff(engagement=engagement)
        assert result["changed"] and len(result["attributes"]) == ENTITIES * ATTRIBUTES

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(world["sme"])

    def page():
        response = client.get(f"/e/{engagement.slug}/signoff/")
        assert response.status_code == 200

    baseline = timed(floor)
    return [
        Result(
            f"snapshot + hash of {ENTITIES * ATTRIBUTES:,} attribute mappings",
            timed(freeze),
            "bare read of the same rows",
            baseline,
            budget_ratio=8,
        ),
        Result(
            "changed since sign-off (field diff of every attribute)",
            timed(changed),
            "bare read of the same rows",
            baseline,
            budget_ratio=12,
        ),
        Result(
            "sign-off overview page",
            timed(page),
            "bare read of the same rows",
            baseline,
            budget_seconds=3,
        ),
    ]
