"""The mapping at the issue's scale (issue 5).

- The grid of one entity with 500 attributes: median of the page render through Django's test
  client vs a bare read of the same 500 rows (the floor); budget 300 ms.
- Validating one transformation against the catalog: median per call vs sqlglot parsing the same
  text alone; budget 20 ms.
- Suggestions for an entity of 100 attributes against a catalog of 100,000 columns vs reading
  those columns from the database (the floor); budget 2 s.
"""

from __future__ import annotations

import statistics
import time

from bench.common import Result, scratch_database, timed

GRID_ATTRIBUTES = 500
CATALOG_TABLES, CATALOG_COLUMNS = 2_000, 50  # 100,000 columns
SUGGESTED_ATTRIBUTES = 100


def run() -> list[Result]:
    with scratch_database("bench_mapping") as connection:
        world = _build_world()
        return [_grid(world, connection), _validation(world), _suggestions(world)]


def _build_world() -> dict:
    from django.contrib.auth import get_user_model
    from simple_history.utils import bulk_create_with_history

    from catalog.models import CatalogColumn, CatalogTable, SourceSystem
    from contracts.choices import LayerStatus
    from contracts.models import InterfaceAttribute, InterfaceEntity, InterfaceLayer
    from mappings.models import AttributeMapping, EntityMapping
    from workbench.choices import Role
    from workbench.models import Engagement, Membership

    user = get_user_model().objects.create_user("bench", password="bench-pass-123")
    engagement = Engagement.objects.create(slug="bench", name="Bench", created_by=user)
    Membership.objects.create(engagement=engagement, user=user, role=Role.TECH_BA)
    layer = InterfaceLayer.objects.create(
        engagement=engagement,
        name="Bench 360",
        version="1",
        status=LayerStatus.PUBLISHED,
        source_file_name="bench.yaml",
        source_format="odcs_yaml",
        source_file="",
        file_hash="0",
        imported_by=user,
    )
    big = InterfaceEntity.objects.create(layer=layer, name="wide_entity", position=0)
    suggested = InterfaceEntity.objects.create(layer=layer, name="customer", position=1)
    words = [
        "email",
        "phone",
        "first_name",
        "last_name",
        "birth_date",
        "city",
        "postal_code",
        "country_code",
        "status",
        "created_at",
    ]
    attributes = [
        InterfaceAttribute(
            layer=layer,
            entity=big,
            name=f"attr_{i:03}",
            position=i,
            logical_type="string",
            canonical_meaning=f"Attribute {i}.",
        )
        for i in range(GRID_ATTRIBUTES)
    ] + [
        InterfaceAttribute(
            layer=layer,
            entity=suggested,
            name=f"{words[i % 10]}_{i // 10}",
            position=i,
            logical_type="string",
        )
        for i in range(SUGGESTED_ATTRIBUTES)
    ]
    InterfaceAttribute.objects.bulk_create(attributes, batch_size=1000)
    source = SourceSystem.objects.create(engagement=engagement, name="Mart", url="sqlite://")
    tables = CatalogTable.objects.bulk_create(
        [
            CatalogTable(engagement=engagement, source=source, name=f"mart_table_{t:04}")
            for t in range(CATALOG_TABLES)
        ],
        batch_size=1000,
    )
    CatalogColumn.objects.bulk_create(
        [
            CatalogColumn(
                engagement=engagement,
                table=table,
                name=f"{words[c % 10]}_{c}",
                position=c,
                data_type="VARCHAR(100)",
            )
            for table in tables
            for c in range(CATALOG_COLUMNS)
        ],
        batch_size=5000,
    )
    wide = EntityMapping(
        engagement=engagement,
        entity_name="wide_entity",
        driving_table="mart_table_0000",
        driving_alias="t",
    )
    customer = EntityMapping(
        engagement=engagement,
        entity_name="customer",
        driving_table="mart_table_0001",
        driving_alias="c",
    )
    bulk_create_with_history([wide, customer], EntityMapping, default_user=user)
    wide, customer = EntityMapping.objects.order_by("pk")
    bulk_create_with_history(
        [
            AttributeMapping(
                engagement=engagement,
                entity_mapping=wide,
                attribute_name=a.name,
                source_columns=f"t.email_{i % CATALOG_COLUMNS}" if i % 2 else "",
            )
            for i, a in enumerate(attributes[:GRID_ATTRIBUTES])
        ]
        + [
            AttributeMapping(engagement=engagement, entity_mapping=customer, attribute_name=a.name)
            for a in attributes[GRID_ATTRIBUTES:]
        ],
        AttributeMapping,
        batch_size=1000,
        default_user=user,
    )
    return {"user": user, "engagement": engagement, "wide": wide, "customer": customer}


def _median_ms(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _grid(world, connection) -> Result:
    from django.test import Client

    from mappings.models import AttributeMapping

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(world["user"])
    url = f"/e/bench/mapping/entities/{world['wide'].pk}/"
    assert client.get(url).status_code == 200
    page = _median_ms(lambda: client.get(url), repeat=7)
    floor = _median_ms(
        lambda: list(AttributeMapping.objects.filter(entity_mapping=world["wide"])), repeat=7
    )
    return Result(
        f"mapping grid, {GRID_ATTRIBUTES} attributes ({connection.vendor})",
        page,
        "bare read of the same rows",
        floor,
        budget_seconds=0.3,
    )


def _validation(world) -> Result:
    import sqlglot

    from mappings.compiled import compile_rule_context

    mapping = world["wide"].attributes.first()
    compiled = compile_rule_context(attribute_mapping=mapping)
    text = (
        "CASE WHEN UPPER(TRIM(t.status_8)) IN ('A', 'ACTIVE') THEN COALESCE(t.email_0, "
        "LOWER(t.email_10)) ELSE CAST(t.city_5 AS VARCHAR) END"
    )

    def validate():
        compiled.compile_rule(
            attribute_name=mapping.attribute_name,
            source_columns="",
            transformation=text,
            default_value="",
        )

    per_call = _median_ms(validate, repeat=50)
    parse_only = _median_ms(lambda: sqlglot.parse_one(text), repeat=50)
    return Result(
        "validate one transformation",
        per_call,
        "sqlglot parse alone",
        parse_only,
        budget_seconds=0.02,
    )


def _suggestions(world) -> Result:
    from catalog.models import CatalogColumn
    from mappings.selectors.suggestions import entity_suggestions

    suggest = timed(lambda: entity_suggestions(entity_mapping=world["customer"], limit=5), repeat=3)
    floor = timed(
        lambda: list(
            CatalogColumn.objects.filter(engagement=world["engagement"]).values_list(
                "table__name", "name", "data_type"
            )
        ),
        repeat=3,
    )
    return Result(
        f"suggestions, {SUGGESTED_ATTRIBUTES} attributes x "
        f"{CATALOG_TABLES * CATALOG_COLUMNS:,} columns",
        suggest,
        "reading the columns",
        floor,
        budget_seconds=2.0,
    )
