"""Page parameters a caller can type: every paginated list answers 400 for a limit or offset out of
bounds or not a number, never a server error."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _list_routes(patterns, prefix: str = "") -> list[tuple[str, str]]:
    """(name, route) of every router `list` action, without the `.json` format variants."""
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            routes += _list_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            actions = getattr(pattern.callback, "actions", None) or {}
            if actions.get("get") == "list" and "format" not in str(pattern.pattern):
                routes.append((pattern.name or "", prefix + str(pattern.pattern)))
    return routes


LIST_ROUTES = _list_routes(get_resolver().url_patterns)


def _url(route: str) -> str:
    return "/" + route.replace("^", "").replace("$", "").replace(
        "(?P<engagement_slug>[-\\w]+)", "acme-360"
    )


def test_the_walk_finds_the_lists():
    assert len(LIST_ROUTES) >= 24
    assert all("(?P<" not in _url(route) for _, route in LIST_ROUTES)


LIMIT = "limit must be a whole number between 1 and 1000."
OFFSET = "offset must be a whole number between 0 and 1000000."
HOSTILE = [
    ("limit=99999999999999999999", {"limit": [LIMIT]}),
    ("limit=1001", {"limit": [LIMIT]}),
    ("limit=0", {"limit": [LIMIT]}),
    ("limit=-5", {"limit": [LIMIT]}),
    ("limit=ten", {"limit": [LIMIT]}),
    ("offset=99999999999999999999", {"offset": [OFFSET]}),
    ("offset=-1", {"offset": [OFFSET]}),
    ("offset=1e3", {"offset": [OFFSET]}),
]


@pytest.fixture
def api(lead):
    client = APIClient()
    client.force_authenticate(lead)
    return client


@pytest.mark.parametrize(("name", "route"), LIST_ROUTES, ids=[name for name, _ in LIST_ROUTES])
def test_a_huge_limit_or_offset_answers_400_on_every_list(api, name, route):
    # given a list endpoint; a page from it tells whether it paginates
    url = _url(route)
    page = api.get(url)
    paginates = page["Content-Type"] == "application/json" and "count" in page.json()

    for query, errors in HOSTILE:
        # when a caller types a page parameter out of bounds
        response = api.get(f"{url}?{query}")

        # then a paginated list refuses it naming the bounds; no list answers a server error
        assert response.status_code < 500, (query, response.status_code)
        if paginates:
            assert (response.status_code, response.json()) == (400, errors), query


def test_limits_within_bounds_still_page(api, lead, engagement):
    response = api.get("/api/v1/engagements/acme-360/members/?limit=1000&offset=1000000")

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert response.json()["count"] >= 1
    assert api.get("/api/v1/engagements/acme-360/members/?limit=&offset=").status_code == 200
