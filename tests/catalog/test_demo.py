"""The demo: the Acme Mart registered, cataloged, profiled and understood by the demo Tech BA."""

from __future__ import annotations

import sqlite3

import pytest

from catalog.demo import DEMO_SOURCE
from catalog.demo_mart import build_demo_mart
from catalog.models import CatalogTable, ColumnProfile, ImpactedEntity, SourceSystem
from workbench.demo import load_demo

pytestmark = pytest.mark.django_db


def test_the_demo_mart_is_deterministic_and_messy(tmp_path):
    first = build_demo_mart(tmp_path / "a.sqlite3")
    second = build_demo_mart(tmp_path / "b.sqlite3")

    def dump(path):
        db = sqlite3.connect(path)
        try:
            return list(db.iterdump())
        finally:
            db.close()

    assert dump(first) == dump(second)
    db = sqlite3.connect(first)
    emails = [r[0] for r in db.execute("SELECT email FROM crm_customer WHERE email IS NOT NULL")]
    assert any(e != e.lower() for e in emails)
    missing = db.execute(
        "SELECT count(*) FROM mkt_email_event WHERE campaign_code IS NULL"
    ).fetchone()
    assert missing[0] > 0
    db.close()


def test_load_demo_catalogs_the_mart_as_the_ba_and_is_idempotent():
    engagement = load_demo()
    counts = (
        CatalogTable.objects.count(),
        ColumnProfile.objects.count(),
        ImpactedEntity.objects.count(),
        CatalogTable.history.count(),
    )

    load_demo()

    assert counts == (
        CatalogTable.objects.count(),
        ColumnProfile.objects.count(),
        ImpactedEntity.objects.count(),
        CatalogTable.history.count(),
    )
    source = SourceSystem.objects.get(engagement=engagement, name=DEMO_SOURCE)
    assert source.created_by.username == "ba"
    customer = CatalogTable.objects.get(source=source, name="crm_customer")
    assert (customer.subject_area, customer.row_count) == ("customer", 1260)
    assert customer.history.first().history_user.username == "ba"
    assert counts[0] == 7 and counts[1] == 55
    assert ImpactedEntity.objects.filter(table=customer).exists()
