"""After a mapping save commits, tell the approvers whose sign-off it invalidated (once each).

Listens to simple-history's record of every EntityMapping/AttributeMapping save, so the mapping
services need not know about sign-off. The work itself is `services.do_notify_changed_since`,
run once per engagement per transaction, on commit, and never able to break the mapping save.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver
from simple_history.signals import post_create_historical_record


@receiver(post_create_historical_record)
def _mapping_saved(sender, instance, **kwargs) -> None:
    from mappings.models import AttributeMapping, EntityMapping

    if not isinstance(instance, EntityMapping | AttributeMapping):
        return
    engagement_id = instance.engagement_id
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _sids, func, _robust in connection.run_on_commit:
            if getattr(func, "signoff_engagement_id", None) == engagement_id:
                return  # already queued in this transaction

    def check() -> None:
        _check(engagement_id)

    check.signoff_engagement_id = engagement_id
    transaction.on_commit(check, robust=True)


def _check(engagement_id: int) -> None:
    from workbench.models import Engagement

    from .services import do_notify_changed_since

    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is not None:
        do_notify_changed_since(engagement=engagement)
