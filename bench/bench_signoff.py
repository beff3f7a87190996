"""Sign-off at 2k, 20k and 100k attribute mappings (issue 18): pages that follow the work.

Three engagements in one scratch database, each shaped like a real one: a published contract of
100 attributes per entity (20, 200 and 1,000 entities), a mapping of 98 of them per entity plus 2
the contract no longer has (GAP items both ways), comments, an approval of the whole spec through
the sign-off services, then a few rows changed after it through the mapping services. Rows go in
through the COPY-based history insert, with the hashes the mapping services would store.

- The dashboard after the approval, through Django's test client as the SME, at each scale:
  budget 150 ms (issue 18, at 100k); the floor is a bare query reading as many rows as the page
  shows.
- The mapping overview (a page of entities), the GAP counts it asks for once on screen, and the
  GAP page, at each scale: budget 500 ms each (issue 16, at 100k); the floor is a bare COUNT of
  the rows per entity and status.
- The grid page of one entity (100 attributes) at 100k vs the same page at 2k: budget 1.5x.
- `changed_since_signoff` at 100k as the dashboard asks it (entity states) vs a bare read of the
  two sets of hashes it compares (the working entities' and the approved version's), and in
  full (every attribute's state and the changed rows' field diffs) vs a bare read of every
  attribute's hash.
"""

from __future__ import annotations

import os

from bench.common import Result, keep_contract_file, scratch_database, timed_pair

# `BENCH_SIGNOFF_SCALES=2000,20000` for a quicker run; the budgets are the at 100k
SCALES = tuple(
    int(s) for s in os.environ.get("BENCH_SIGNOFF_SCALES", "2000,20000,100000").split(",")
)
ATTRIBUTES = 100  # per entity: 98 mapped contract attributes, 2 mappings the contract dropped
CHANGED_AFTER_APPROVAL = 3  # rows edited through the services after the sign-off


def run() -> list[Result]:
    with scratch_database("bench_signoff"):
        worlds = {scale: _build_world(scale) for scale in SCALES}
        return _measure(worlds)


def _build_world(scale: int) -> dict:
    from django.contrib.auth import get_user_model

    from mappings.models import AttributeMapping, EntityMapping
    from mappings.services import mapping as mapping_services
    from signoff import services
    from signoff.choices import Gate
    from workbench.choices import Role, SignoffGate
    from workbench.models import Engagement, Membership, SignoffOwner

    User = get_user_model()
    ba = User.objects.create_user(f"ba-{scale}", password="bench-pass-123")
    sme = User.objects.create_user(f"sme-{scale}", password="bench-pass-123")
    engagement = Engagement.objects.create(slug=f"bench-{scale}", name="Bench", created_by=ba)
    Membership.objects.create(engagement=engagement, user=ba, role=Role.TECH_BA)
    Membership.objects.create(engagement=engagement, user=sme, role=Role.CLIENT_SME)
    SignoffOwner.objects.create(engagement=engagement, gate=SignoffGate.MAPPING, user=sme)
    entities = scale // ATTRIBUTES
    _contract(engagement, ba, entities)
    _catalog(engagement, ba)
    entity_ids = _mapping(engagement, ba, entities)
    _comments(engagement, ba, entity_ids)

    review = services.do_submit_for_review(engagement=engagement, gate=Gate.MAPPING, acting_user=ba)
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    for e in range(CHANGED_AFTER_APPROVAL):
        mapping = AttributeMapping.objects.get(
            entity_mapping_id=entity_ids[e * entities // CHANGED_AFTER_APPROVAL],
            attribute_name="attr_098",
        )
        mapping_services.attribute_mapping_update(
            attribute_mapping=mapping,
            data={"edge_cases": "Changed after sign-off."},
            acting_user=ba,
        )
    grid_entity = EntityMapping.objects.get(pk=entity_ids[entities // 2])
    return {
        "engagement": engagement,
        "sme": sme,
        "grid_entity": grid_entity,
        "approved_version": review.version,
    }


def _contract(engagement, user, entities: int) -> None:
    from contracts.choices import LayerStatus, SourceFormat
    from contracts.models import InterfaceAttribute, InterfaceEntity, InterfaceLayer
    from workbench.history import fast_bulk_insert_with_history

    (layer_id,) = fast_bulk_insert_with_history(
        InterfaceLayer,
        [
            {
                "engagement_id": engagement.pk,
                "name": "Bench contract",
                "version": "1.0.0",
                "status": LayerStatus.PUBLISHED.value,
                "source_file_name": "bench.yaml",
                "source_format": SourceFormat.ODCS_YAML.value,
                "file_hash": "0" * 64,
                "imported_by_id": user.pk,
                "published_by_id": user.pk,
            }
        ],
        acting_user=user,
    )
    keep_contract_file(layer_id=layer_id, entities=entities, attributes=ATTRIBUTES)
    entity_ids = fast_bulk_insert_with_history(
        InterfaceEntity,
        [{"layer_id": layer_id, "name": f"entity_{e:04}", "position": e} for e in range(entities)],
        acting_user=user,
    )
    fast_bulk_insert_with_history(
        InterfaceAttribute,
        [
            {
                "layer_id": layer_id,
                "entity_id": entity_id,
                "name": f"attr_{a:03}",
                "position": a,
                "logical_type": "string",
                "required": a < 5,
                "primary_key": a == 0,
            }
            # 98 mapped and 2 never mapped (GAP: missing mappings)
            for entity_id in entity_ids
            for a in [*range(ATTRIBUTES - 2), 200, 201]
        ],
        acting_user=user,
    )


def _catalog(engagement, user) -> None:
    """The Mart the rules read: mart.base has lost col_095 since it was mapped (a GAP item per
    entity: its source column disappeared)."""
    from catalog.models import CatalogColumn, CatalogTable, SourceSystem
    from workbench.history import fast_bulk_insert_with_history

    source = SourceSystem.objects.create(engagement=engagement, name="Mart", url="")
    base_id, ref_id = fast_bulk_insert_with_history(
        CatalogTable,
        [
            {"engagement_id": engagement.pk, "source_id": source.pk, "schema": "mart", "name": n}
            for n in ("base", "ref")
        ],
        acting_user=user,
    )
    fast_bulk_insert_with_history(
        CatalogColumn,
        [
            {"engagement_id": engagement.pk, "table_id": t, "name": f"col_{c:03}", "position": c}
            for t in (base_id, ref_id)
            for c in range(ATTRIBUTES)
            if (t, c) != (base_id, 95)
        ],
        acting_user=user,
    )


def _mapping(engagement, user, entities: int) -> list[int]:
    """The working mapping with the hashes the mapping services store (mappings.snapshot)."""
    from mappings.models import AttributeMapping, EntityMapping, EntitySpecHash
    from mappings.snapshot import (
        ATTRIBUTE_SPEC_FIELDS,
        ENTITY_SPEC_FIELDS,
        attribute_hash,
        entity_hash,
    )
    from workbench.history import fast_bulk_insert_with_history

    def attribute(a: int) -> dict:
        blank = {field: "" for field in ATTRIBUTE_SPEC_FIELDS}
        if a >= ATTRIBUTES - 4:  # no rule yet: defaults, and the rows edited after sign-off
            return blank | {"status": "unmapped", "lineage": [], "lineage_tables": []}
        rule = {"transformation": f"UPPER(TRIM(t.col_{a:03}))"} if a % 2 else {}
        source = {} if a % 2 else {"source_columns": f"r.col_{a:03}"}
        return (
            blank
            | rule
            | source
            | {
                "edge_cases": "NULL stays NULL." if a % 10 == 0 else "",
                "status": "mapped",
                "lineage": [f"t.col_{a:03}"] if a % 2 else [f"r.col_{a:03}"],
                "lineage_tables": ["mart.base"] if a % 2 else ["mart.ref"],
            }
        )

    # attr_098/099 are names the contract dropped: GAP items the other way
    attributes = {f"attr_{a:03}": attribute(a) for a in [*range(ATTRIBUTES - 2), 98, 99]}
    attribute_hashes = {name: attribute_hash(row) for name, row in attributes.items()}
    entity_rows = []
    for e in range(entities):
        own = {field: "" for field in ENTITY_SPEC_FIELDS} | {
            "driving_table": "mart.base",
            "driving_alias": "t",
            "joins": "LEFT JOIN mart.ref r ON r.id = t.ref_id",
            "frequency": "daily",
            "status": "mapped",
        }
        entity_rows.append(
            {"engagement_id": engagement.pk, "entity_name": f"entity_{e:04}", **own}
            | {"updated_by_id": user.pk}
        )
    entity_ids = fast_bulk_insert_with_history(EntityMapping, entity_rows, acting_user=user)
    spec_hash = entity_hash(own, attribute_hashes)  # every entity has the same spec content
    EntitySpecHash.objects.bulk_create(  # derived, not historied
        EntitySpecHash(entity_mapping_id=entity_id, spec_hash=spec_hash) for entity_id in entity_ids
    )
    fast_bulk_insert_with_history(
        AttributeMapping,
        [
            {
                "engagement_id": engagement.pk,
                "entity_mapping_id": entity_id,
                "attribute_name": name,
                **row,
                "spec_hash": attribute_hashes[name],
                "updated_by_id": user.pk,
            }
            for entity_id in entity_ids
            for name, row in attributes.items()
        ],
        acting_user=user,
    )
    return entity_ids


def _comments(engagement, user, entity_ids: list[int]) -> None:
    """An open question on every tenth entity, a resolved one on every other tenth."""
    from mappings.models import MappingComment
    from workbench.history import fast_bulk_insert_with_history

    fast_bulk_insert_with_history(
        MappingComment,
        [
            {
                "engagement_id": engagement.pk,
                "entity_mapping_id": entity_id,
                "kind": "question",
                "text": "Which source wins when both are filled?",
                "author_id": user.pk,
                "resolved": bool(i % 20),
            }
            for i, entity_id in enumerate(entity_ids)
            if i % 10 == 0
        ],
        acting_user=user,
    )


def _result(name: str, pair: tuple[float, float], baseline_name: str, **budget) -> Result:
    figure, baseline = pair
    return Result(name, figure, baseline_name, baseline, **budget)


def _measure(worlds: dict) -> list[Result]:
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from mappings.models import AttributeMapping, EntityMapping
    from signoff import selectors
    from signoff.models import SpecVersionEntity
    from workbench.phases import PHASE_OUTPUTS

    def page(world: dict, url: str):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(world["sme"])

        def get():
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response

        return get

    results = []
    for scale, world in worlds.items():
        engagement = world["engagement"]
        dashboard = page(world, reverse("engagement-dashboard", args=[engagement.slug]))
        outputs = sum(len(outputs) for outputs in PHASE_OUTPUTS.values())
        shown = outputs + 2 + 1  # every phase output, the two members, the sign-off owner

        def floor(engagement=engagement, shown=shown):
            return list(
                AttributeMapping.objects.filter(engagement=engagement)
                .order_by()  # unsorted: the limit stops the read, as the page's lists do
                .values_list("attribute_name", "status")[:shown]
            )

        results.append(
            _result(
                f"dashboard after an approval, {scale:,} attribute mappings",
                timed_pair(dashboard, floor, repeat=7),
                f"bare read of the {shown} rows it shows",
                budget_seconds=0.15,
            )
        )

        def per_entity_counts(engagement=engagement):
            return list(
                AttributeMapping.objects.filter(engagement=engagement)
                .values("entity_mapping_id", "status")
                .annotate(n=Count("pk"))
            )

        overview = page(world, reverse("mapping-overview", args=[engagement.slug]))
        counts = page(world, reverse("mapping-gap-summary", args=[engagement.slug]))
        gap = page(world, reverse("mapping-gap", args=[engagement.slug]))
        for name, fn in (
            ("mapping overview", overview),
            ("the overview's GAP counts (asked for once it is on screen)", counts),
            ("GAP page", gap),
        ):
            results.append(
                _result(
                    f"{name}, {scale:,} attribute mappings",
                    timed_pair(fn, per_entity_counts, repeat=5),
                    "bare COUNT of the rows per entity and status",
                    budget_seconds=0.5,
                )
            )

    small, large = worlds[SCALES[0]], worlds[SCALES[-1]]

    def grid(world):
        entity = world["grid_entity"]
        return page(world, reverse("mapping-entity", args=[entity.engagement.slug, entity.pk]))

    results.append(
        _result(
            f"grid of one entity ({ATTRIBUTES} rows) at {SCALES[-1]:,}",
            timed_pair(grid(large), grid(small), repeat=7),
            f"the same page at {SCALES[0]:,}",
            budget_ratio=1.5,
        )
    )

    def grid_rows(world):
        entity = world["grid_entity"]
        url = reverse("api-attribute-mapping-grid", args=[entity.engagement.slug])
        return page(world, f"{url}?entity_mapping={entity.pk}")

    results.append(
        _result(
            f"grid rows API of one entity ({ATTRIBUTES} rows) at {SCALES[-1]:,}",
            timed_pair(grid_rows(large), grid_rows(small), repeat=7),
            f"the same rows at {SCALES[0]:,}",
            budget_ratio=1.5,
        )
    )

    engagement = large["engagement"]

    def dashboard_states():
        states = selectors.changed_since_signoff(
            engagement=engagement, attributes=False, changes=False
        )
        assert states["changed"]

    approved_version = large["approved_version"]

    def entity_hashes():
        """The two sets of hashes the answer compares, read bare: the working entities' and
        the approved version's."""
        working = list(
            EntityMapping.objects.filter(engagement=engagement).values_list(
                "entity_name", "spec_state__spec_hash"
            )
        )
        approved = list(
            SpecVersionEntity.objects.filter(version=approved_version).values_list(
                "entity_name", "spec_hash"
            )
        )
        return working, approved

    def full_states():
        states = selectors.changed_since_signoff(engagement=engagement)
        changed = [key for key, state in states["attributes"].items() if state["changed"]]
        assert len(changed) == CHANGED_AFTER_APPROVAL, changed

    def attribute_hashes():
        return list(
            AttributeMapping.objects.filter(engagement=engagement).values_list(
                "entity_mapping_id", "attribute_name", "spec_hash"
            )
        )

    results += [
        _result(
            f"changed since sign-off, entity states, {SCALES[-1]:,}",
            timed_pair(dashboard_states, entity_hashes, repeat=7),
            "bare read of the working and the approved entities' hashes",
            budget_ratio=3,
        ),
        _result(
            f"changed since sign-off, every attribute + diffs, {SCALES[-1]:,}",
            timed_pair(full_states, attribute_hashes, repeat=5),
            "bare read of every attribute's hash",
            budget_ratio=3,
        ),
    ]
    return results
