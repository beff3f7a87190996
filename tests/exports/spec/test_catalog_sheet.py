"""The Source Catalog sheet: each used column with the attributes it feeds, written a chunk of
tables at a time."""

from __future__ import annotations

import pytest

from exports.selectors import spec as spec_selectors
from mappings.models import AttributeMapping
from workbench.history import save_with_history

from .conftest import export_bytes, open_workbook


@pytest.fixture
def one_table_at_a_time(monkeypatch):
    """The sheet written one table per chunk, its feeding rows read one per query: every list
    crosses chunk boundaries, as in an engagement of 100,000 attribute mappings."""
    monkeypatch.setattr(spec_selectors, "CATALOG_CHUNK_COLUMNS", 1)
    monkeypatch.setattr(spec_selectors, "FEED_ROWS", 1)


def _used_by(content: bytes) -> dict[tuple[str, str], str]:
    sheet = open_workbook(content)["Source Catalog"]
    header = [c.value for c in sheet[1]]
    table, column, used_by = (header.index(n) for n in ("Source Table", "Column", "Used By"))
    return {
        (row[table], row[column]): row[used_by] or ""
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }


def test_a_column_lists_the_attributes_it_feeds_across_entities_in_row_order(
    mapped, ba, one_table_at_a_time
):
    used_by = _used_by(export_bytes(mapped, ba))

    # A column feeding two attributes names both; a subscription column feeds a customer attribute
    assert used_by[("crm_customer", "created_at")] == "customer.created_at, customer.updated_at"
    assert used_by[("crm_subscription", "opt_in_flag")] == "customer.email_opt_in"
    assert (
        used_by[("mkt_campaign", "campaign_id")] == "campaign.campaign_id, campaign.campaign_code"
    )
    assert used_by[("crm_customer", "email")] == "customer.email"


def test_a_column_feeding_more_than_ten_attributes_shows_the_first_ten_and_an_ellipsis(
    mapped, ba, one_table_at_a_time
):
    # Given eleven more attributes whose lineage reads crm_customer.email (set as a rule's
    # analysis would store it)
    rows = list(
        AttributeMapping.objects.filter(engagement=mapped)
        .exclude(entity_mapping__entity_name="customer", attribute_name="email")
        .select_related("entity_mapping")
        .order_by("pk")[:11]
    )
    for row in rows:
        row.lineage, row.lineage_tables = ["c.email"], ["crm_customer"]
        save_with_history(row, acting_user=ba)
    email = AttributeMapping.objects.get(
        engagement=mapped, entity_mapping__entity_name="customer", attribute_name="email"
    )
    feeding = sorted([*rows, email], key=lambda row: row.pk)
    names = [f"{row.entity_mapping.entity_name}.{row.attribute_name}" for row in feeding]

    used_by = _used_by(export_bytes(mapped, ba))

    # Then the Used By cell names the first ten rows reading it and says there are more
    assert used_by[("crm_customer", "email")] == ", ".join(names[:10]) + " …"
