"""The mapping at the issue's scale (issue 5).

- The grid of one entity with 500 attributes: median of the page render through Django's test
  client vs a bare read of the same 500 rows (the floor); budget 300 ms.
- Validating one transformation against the catalog: median per call vs sqlglot parsing the same
  text alone; budget 20 ms.
- Suggestions for an entity of 100 attributes against a catalog of 1,000,000 columns (through
  the stored suggestion index) vs reading the candidate columns bare (the floor); budgets 2 s and
  300 MiB.
"""

from __future__ import annotations

import statistics
import time

from bench.common import Result, peak_memory_mib, scratch_database, timed_pair

GRID_ATTRIBUTES = 500
CATALOG_TABLES, CATALOG_COLUMNS = 2_000, 50  # 100,000 columns
SUGGESTED_ATTRIBUTES = 100
SUGGESTION_COLUMNS = 1_000_000  # the Mart's 100,000 and an archive source of 900,000


def run() -> list[Result]:
    with scratch_database("bench_mapping") as connection:
        world = _build_world()
        return [_grid(world, connection), _validation(world), *_suggestions(world)]


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


def _suggestions(world) -> list[Result]:
    """Suggestions for the customer entity's 100 attributes over 1,000,000 catalog columns.

    The floor reads bare the rows the suggestions read: the facts of every candidate column the
    shortlists name, by id, with one raw query per chunk (no index look-ups, no scoring)."""
    from django.db import connection

    from mappings.selectors.suggestions import catalog_suggestions, entity_suggestions
    from mappings.suggestions import normalise

    _add_archive_catalog(world)
    customer = world["customer"]
    index = catalog_suggestions(engagement=world["engagement"], entity_mapping=customer)
    names = customer.attributes.values_list("attribute_name", flat=True)
    candidates = sorted(set().union(*(index.shortlist(frozenset(normalise(n))) for n in names)))

    def suggest():
        entity_suggestions(entity_mapping=customer, limit=5)

    def read_candidates():
        with connection.cursor() as cursor:
            for start in range(0, len(candidates), 900):
                chunk = candidates[start : start + 900]
                cursor.execute(
                    "SELECT t.schema, t.name, c.name, c.data_type, c.is_primary_key, p.patterns "
                    "FROM mappings_catalogcolumn c "
                    "JOIN mappings_catalogtable t ON t.id = c.table_id "
                    "LEFT JOIN mappings_columnprofile p ON p.column_id = c.id "
                    f"WHERE c.id IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                cursor.fetchall()

    seconds, floor = timed_pair(suggest, read_candidates, repeat=3)
    cpu = time.process_time()
    suggest()
    print(f"# suggestions: {time.process_time() - cpu:.2f} s of this process's CPU", flush=True)
    memory, floor_memory = peak_memory_mib(suggest), peak_memory_mib(read_candidates)
    name = f"suggestions, {SUGGESTED_ATTRIBUTES} attributes x {SUGGESTION_COLUMNS:,} columns"
    floor_name = f"reading the {len(candidates):,} candidate columns bare"
    return [
        Result(name, seconds, floor_name, floor, budget_seconds=2.0),
        Result(f"{name}, memory", memory, floor_name, floor_memory, budget_seconds=300, unit="MiB"),
    ]


def _add_archive_catalog(world) -> None:
    """A second source of 900,000 columns named like the first (so the engagement has
    1,000,000), stored as a catalog store writes them (COPY, history included) and indexed."""
    from catalog.models import CatalogColumn, CatalogTable, SourceSystem
    from catalog.services.suggestion_index import suggestion_index_rebuild
    from workbench.history import fast_bulk_insert_with_history

    start = time.perf_counter()
    engagement, user = world["engagement"], world["user"]
    archive = SourceSystem.objects.create(engagement=engagement, name="Mart archive", url="")
    tables = SUGGESTION_COLUMNS // CATALOG_COLUMNS - CATALOG_TABLES
    table_ids = fast_bulk_insert_with_history(
        CatalogTable,
        [
            {"engagement_id": engagement.pk, "source_id": archive.pk, "name": f"archive_{t:05}"}
            for t in range(tables)
        ],
        acting_user=user,
    )
    words = ["email", "phone", "first_name", "last_name", "birth_date", "city", "postal_code"]
    words += ["country_code", "status", "created_at"]  # the first source's column names
    for first in range(0, tables, 2_000):
        fast_bulk_insert_with_history(
            CatalogColumn,
            [
                {
                    "engagement_id": engagement.pk,
                    "table_id": table_id,
                    "name": f"{words[c % 10]}_{c}",
                    "position": c,
                    "data_type": "VARCHAR(100)",
                }
                for table_id in table_ids[first : first + 2_000]
                for c in range(CATALOG_COLUMNS)
            ],
            acting_user=user,
        )
    stored = time.perf_counter() - start
    start = time.perf_counter()
    for source in SourceSystem.objects.filter(engagement=engagement):
        suggestion_index_rebuild(source=source)
    print(
        f"# {tables * CATALOG_COLUMNS:,} archive columns stored with history in {stored:.1f} s; "
        f"suggestion index of {SUGGESTION_COLUMNS:,} columns built in "
        f"{time.perf_counter() - start:.1f} s",
        flush=True,
    )
