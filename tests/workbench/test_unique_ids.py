"""Every page of the demo engagement a Tech BA reaches from the dashboard has unique element
ids (labels, HTMX targets and scripts address elements by id; a duplicate silently hits the first)."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User

from mappings.models import EntityMapping
from workbench.demo import DEMO_SLUG, load_demo

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])


def test_no_page_a_tech_ba_reaches_repeats_an_id(client):
    load_demo()
    client.force_login(User.objects.get(username="ba"))
    prefix = f"/e/{DEMO_SLUG}/"
    entity = EntityMapping.objects.filter(engagement__slug=DEMO_SLUG).first()
    # The dashboard, the pages it and the navigation link to, and the pages those link to
    # (one of each kind: a path is visited once, whatever its query string).
    queue = [(prefix, 0), (f"{prefix}mapping/entities/{entity.pk}/?view=table", 1)]
    seen, duplicates = {urlsplit(path).path for path, _ in queue}, {}
    while queue:
        path, depth = queue.pop(0)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        page = _Page()
        page.feed(response.content.decode())
        repeated = sorted(i for i, n in Counter(page.ids).items() if n > 1)
        if repeated:
            duplicates[path] = repeated
        for href in page.links if depth < 2 else []:
            link = urlsplit(href).path
            if link.startswith(prefix) and link not in seen:
                seen.add(link)
                queue.append((link, depth + 1))

    assert len(seen) > 20  # the walk reached the pages, not only the dashboard
    assert duplicates == {}
