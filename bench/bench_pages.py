"""An entity of 5,000 attributes opening in the editing grid (issue 16): budget 1 s.

Measured in real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a live
server in this process on 127.0.0.1: from asking for the entity's page until the grid has painted
its first rows, so the figure holds the page's server time, the grid rows API and the browser's
work. The floor is a bare read of the same 5,000 rows, interleaved with it. Without Chromium the
figure is skipped with a message (the other modules still run).
"""

from __future__ import annotations

import os

from bench.common import Result, keep_contract_file, scratch_database, timed_pair

CHROMIUM = "/usr/bin/chromium"
ATTRIBUTES = 5_000


def run() -> list[Result]:
    if not os.path.exists(CHROMIUM):
        print(f"# skipped: the grid of {ATTRIBUTES:,} attributes needs Chromium at {CHROMIUM}")
        return []
    # Playwright's sync API runs an event loop in this thread; the floor's ORM reads stay sync.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with scratch_database("bench_pages"):
        world = _build_world()
        return [_grid_in_the_browser(world)]


def _build_world() -> dict:
    from django.contrib.auth import get_user_model

    from contracts.choices import LayerStatus, SourceFormat
    from contracts.models import InterfaceAttribute, InterfaceEntity, InterfaceLayer
    from mappings.models import AttributeMapping, EntityMapping
    from workbench.choices import Role
    from workbench.history import fast_bulk_insert_with_history
    from workbench.models import Engagement, Membership

    ba = get_user_model().objects.create_user("ba", password="bench-pass-123")
    engagement = Engagement.objects.create(slug="bench-wide", name="Bench", created_by=ba)
    Membership.objects.create(engagement=engagement, user=ba, role=Role.TECH_BA)
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
                "imported_by_id": ba.pk,
                "published_by_id": ba.pk,
            }
        ],
        acting_user=ba,
    )
    keep_contract_file(layer_id=layer_id, entities=1, attributes=ATTRIBUTES)
    (entity_id,) = fast_bulk_insert_with_history(
        InterfaceEntity, [{"layer_id": layer_id, "name": "wide", "position": 0}], acting_user=ba
    )
    fast_bulk_insert_with_history(
        InterfaceAttribute,
        [
            {
                "layer_id": layer_id,
                "entity_id": entity_id,
                "name": f"attr_{a:04}",
                "position": a,
                "logical_type": "string",
                "required": a % 10 == 0,
                "canonical_meaning": f"Attribute {a} of the wide entity.",
            }
            for a in range(ATTRIBUTES)
        ],
        acting_user=ba,
    )
    (mapping_id,) = fast_bulk_insert_with_history(
        EntityMapping,
        [
            {
                "engagement_id": engagement.pk,
                "entity_name": "wide",
                "driving_table": "mart.base",
                "driving_alias": "t",
                "updated_by_id": ba.pk,
            }
        ],
        acting_user=ba,
    )
    fast_bulk_insert_with_history(
        AttributeMapping,
        [
            {
                "engagement_id": engagement.pk,
                "entity_mapping_id": mapping_id,
                "attribute_name": f"attr_{a:04}",
                "transformation": f"UPPER(TRIM(t.col_{a:04}))" if a % 2 else "",
                "source_columns": "" if a % 2 else f"t.col_{a:04}",
                "status": "mapped" if a % 3 else "unmapped",
                "lineage": [f"t.col_{a:04}"],
                "lineage_tables": ["mart.base"],
                "updated_by_id": ba.pk,
            }
            for a in range(ATTRIBUTES)
        ],
        acting_user=ba,
    )
    return {"ba": ba, "entity": EntityMapping.objects.get(pk=mapping_id)}


def _grid_in_the_browser(world: dict) -> Result:
    from django.conf import settings
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connections
    from django.test import Client
    from django.test.testcases import LiveServerThread
    from django.urls import reverse
    from playwright.sync_api import sync_playwright

    from mappings.models import AttributeMapping

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    client = Client()
    client.force_login(world["ba"])
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    entity = world["entity"]
    url = reverse("mapping-entity", args=[entity.engagement.slug, entity.pk])
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900})
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}]
            )
            page = context.new_page()

            def open_grid():
                page.goto(url)
                page.wait_for_selector("#mapping-grid .tabulator-row", timeout=60_000)

            def bare_read():
                return list(AttributeMapping.objects.filter(entity_mapping=entity).values_list())

            open_grid()  # warm: templates compiled, static files cached as a user's would be
            figure, floor = timed_pair(open_grid, bare_read, repeat=5)
            browser.close()
            # The floor read inside Playwright's greenlet, whose context has a connection of its
            # own: closed here, or PostgreSQL refuses to drop the scratch database afterwards.
            connections.close_all()
    finally:
        server.terminate()
    return Result(
        f"an entity of {ATTRIBUTES:,} attributes opens in the grid (server + rows API + paint)",
        figure,
        f"bare read of the same {ATTRIBUTES:,} rows",
        floor,
        budget_seconds=1.0,
    )
