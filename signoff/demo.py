"""The demo's sign-off: the Tech BA submits version 1 of the mapping for the mapping sign-off,
which the named Client SME has not decided yet — the "review in progress" of the demo story."""

from __future__ import annotations

from mappings.models import EntityMapping
from workbench.demo import demo_step

from .choices import Gate
from .models import ReviewRequest
from .services import do_submit_for_review


@demo_step
def demo_mapping_review(engagement, users) -> None:
    """Runs after the mapping demo step (app order). Idempotent: once any review exists, skip."""
    if ReviewRequest.objects.filter(engagement=engagement).exists():
        return
    if not EntityMapping.objects.filter(engagement=engagement).exists():
        return
    do_submit_for_review(
        engagement=engagement,
        gate=Gate.MAPPING,
        acting_user=users["ba"],
        message="Walk-through on Thursday: customer, address, campaign and email events are "
        "mapped; subscription waits for the billing-system answer.",
    )
