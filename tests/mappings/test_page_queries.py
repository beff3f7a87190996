"""The overview, its GAP counts, the GAP and the dashboard cost a fixed number of queries: counted on the demo
engagement (one entity's FROM clause written), then again after it grew by 30 entities of 20 attributes with GAP items of every kind
(the page's time follows what it shows, not the rows behind it). Both worlds have rules reading the
Mart: the GAP reads the catalog once per LINEAGE_BATCH distinct lineages, and not at all for none."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from simple_history.utils import bulk_create_with_history

from mappings.choices import CommentKind, Feasibility, MappingStatus
from mappings.models import AttributeMapping, EntityMapping, MappingComment

PAGES = ("mapping-overview", "mapping-gap-summary", "mapping-gap", "engagement-dashboard")
ENTITIES, ATTRIBUTES = 30, 20


def _queries(client, engagement) -> dict[str, int]:
    counts = {}
    for name in PAGES:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse(name, args=[engagement.slug]))
        assert response.status_code == 200, name
        counts[name] = len(captured)
    return counts


def _grow(engagement, user, entities=range(ENTITIES)) -> None:
    """Entities the contract does not know, mapped from a table the Mart does not have, with
    warnings, verdicts and questions: every row is a GAP item."""
    names = [f"extra_{e:02}" for e in entities]
    entities = [
        EntityMapping(
            engagement=engagement,
            entity_name=name,
            driving_table="gone_table",
            driving_alias="g",
            updated_by=user,
        )
        for name in names
    ]
    bulk_create_with_history(entities, EntityMapping, default_user=user)
    rows = []
    for entity in EntityMapping.objects.filter(engagement=engagement, entity_name__in=names):
        for a in range(ATTRIBUTES):
            rows.append(
                AttributeMapping(
                    engagement=engagement,
                    entity_mapping=entity,
                    attribute_name=f"attr_{a:02}",
                    source_columns=f"g.col_{a:02}",
                    status=MappingStatus.MAPPED,
                    lineage=[f"g.col_{a:02}"],
                    lineage_tables=["gone_table"],
                    problems=[{"level": "warning", "message": "col can be NULL"}] if a % 3 else [],
                    feasibility=Feasibility.NOT_FEASIBLE if a % 5 == 0 else Feasibility.FEASIBLE,
                    updated_by=user,
                )
            )
    bulk_create_with_history(rows, AttributeMapping, batch_size=500, default_user=user)
    questions = [
        MappingComment(
            engagement=engagement,
            entity_mapping=row.entity_mapping,
            attribute_mapping=row,
            kind=CommentKind.QUESTION,
            text="Which source wins?",
            author=user,
        )
        for row in AttributeMapping.objects.filter(
            entity_mapping__entity_name__in=names, attribute_name="attr_00"
        )
    ]
    bulk_create_with_history(questions, MappingComment, default_user=user)


@pytest.mark.django_db
def test_the_mapping_pages_and_the_dashboard_do_not_query_more_for_more_rows(
    client, customer, ba, django_assert_max_num_queries
):
    prepared = customer.engagement  # the demo with one FROM clause written
    _grow(prepared, ba, entities=[0])  # and one entity whose rules read the Mart
    client.force_login(ba)
    small = _queries(client, prepared)
    items_before = client.get(reverse("mapping-gap", args=[prepared.slug])).context["total"]

    _grow(prepared, ba, entities=range(1, 1 + ENTITIES))
    large = _queries(client, prepared)

    assert large == small
    gap = client.get(reverse("mapping-gap", args=[prepared.slug]))
    # every added row is an item (dropped source; not in the contract), most several times
    assert gap.context["total"] > items_before + ENTITIES * ATTRIBUTES
    with django_assert_max_num_queries(30):
        client.get(reverse("mapping-overview", args=[prepared.slug]))
    with django_assert_max_num_queries(30):
        client.get(reverse("mapping-gap", args=[prepared.slug]))
    with django_assert_max_num_queries(40):
        client.get(reverse("engagement-dashboard", args=[prepared.slug]))


@pytest.mark.django_db
def test_the_gap_page_shows_its_items_a_page_at_a_time_and_counts_them_all(client, prepared, ba):
    _grow(prepared, ba)
    client.force_login(ba)
    url = reverse("mapping-gap", args=[prepared.slug])

    first = client.get(url)
    total = first.context["total"]
    assert len(first.context["rows"]) == 200
    assert sum(c["count"] for c in first.context["counts"]) == total
    assert f"Items 1–200 of {total}" in first.content.decode()

    last = client.get(url, {"page": first.context["page"].paginator.num_pages})
    assert len(last.context["rows"]) == total - 200 * (last.context["page"].number - 1)
    shown = [row["item"] for row in first.context["rows"] + last.context["rows"]]
    assert len(set(shown)) == len(shown)  # the pages do not overlap

    # a page past the end shows the last one; a page that is no number, the first
    assert client.get(url, {"page": 999}).context["page"].number == last.context["page"].number
    assert client.get(url, {"page": "x"}).context["page"].number == 1
    high = client.get(url, {"severity": "high", "page": 2})
    assert all(row["item"].severity == "high" for row in high.context["rows"])
    assert "severity=high&amp;page=1" in high.content.decode()
