"""The demo story: version 1 of the demo mapping submitted by the Tech BA, a mapping review in
progress (requested, not yet decided) for the named SME; loading twice changes nothing."""

from __future__ import annotations

import pytest

from signoff.choices import Gate, NotificationKind, ReviewState
from signoff.models import AuditEvent, Decision, ReviewRequest, SpecVersion
from workbench.demo import DEMO_SLUG, load_demo
from workbench.models import Notification

pytestmark = pytest.mark.django_db


def test_the_demo_leaves_a_mapping_review_in_progress_and_is_idempotent():
    engagement = load_demo()
    review = ReviewRequest.objects.get(engagement=engagement)
    assert engagement.slug == DEMO_SLUG
    assert (review.gate, review.state, review.version.number) == (
        Gate.MAPPING,
        ReviewState.REQUESTED,
        1,
    )
    assert review.requested_by.username == "ba"
    assert "customer" in review.version.snapshot["entities"]
    assert (
        Notification.objects.filter(
            recipient__username="sme", kind=NotificationKind.REVIEW_REQUESTED
        ).count()
        == 1
    )
    counts = (SpecVersion.objects.count(), AuditEvent.objects.count(), Decision.objects.count())

    load_demo()

    assert ReviewRequest.objects.count() == 1
    assert (
        SpecVersion.objects.count(),
        AuditEvent.objects.count(),
        Decision.objects.count(),
    ) == counts
