"""The demo engagement carries the published Marketing 360 contract and a few notes."""

from __future__ import annotations

import pytest

from contracts import selectors
from contracts.models import InterfaceAttribute, InterfaceLayer, InterfaceNote
from workbench.demo import load_demo

pytestmark = pytest.mark.django_db


def test_the_demo_publishes_marketing_360_as_the_ba_and_is_idempotent():
    engagement = load_demo()
    counts = (
        InterfaceLayer.objects.count(),
        InterfaceAttribute.objects.count(),
        InterfaceNote.objects.count(),
        InterfaceLayer.history.count(),
        InterfaceNote.history.count(),
    )

    load_demo()

    layer = selectors.published_layer(engagement=engagement)
    assert (layer.name, layer.version, layer.imported_by.username) == (
        "Marketing 360",
        "1.0.0",
        "ba",
    )
    assert selectors.published_entity_names(engagement=engagement) == [
        "customer",
        "customer_address",
        "subscription",
        "campaign",
        "email_event",
    ]
    assert counts == (
        InterfaceLayer.objects.count(),
        InterfaceAttribute.objects.count(),
        InterfaceNote.objects.count(),
        InterfaceLayer.history.count(),
        InterfaceNote.history.count(),
    )
    assert counts[2] == 3
