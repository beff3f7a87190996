"""The inbox belongs to the core: any app tells members something through workbench.services.notify;
the Notification rows stay in the table the sign-off app created."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from tests.factories import UserFactory
from workbench import selectors, services
from workbench.choices import NotificationKind
from workbench.models import Notification

pytestmark = pytest.mark.django_db


def test_the_model_moved_to_the_core_keeping_its_table():
    assert Notification._meta.app_label == "workbench"
    assert Notification._meta.db_table == "signoff_notification"


def test_notify_skips_the_actor_and_duplicates_and_emails_on_commit(
    engagement, ba, sme, lead, mailoutbox, django_capture_on_commit_callbacks
):
    # When the BA notifies the SME (twice in the list), the lead, and themself
    with django_capture_on_commit_callbacks(execute=True):
        rows = services.notify(
            [sme, sme, lead, ba],
            engagement=engagement,
            kind=NotificationKind.MENTIONED,
            subject="Have a look",
            body="At the customer entity.",
            url="/somewhere/",
            actor=ba,
        )

    # Then the SME and the lead get one inbox line each, and one e-mail each once committed
    assert sorted(n.recipient.username for n in rows) == sorted([sme.username, lead.username])
    assert sorted(m.to[0] for m in mailoutbox) == sorted([sme.email, lead.email])
    assert {m.subject for m in mailoutbox} == {f"[{engagement.name}] Have a look"}
    assert selectors.unread_count(user=sme) == 1
    assert [n.subject for n in selectors.inbox(user=sme)] == ["Have a look"]


def test_a_notification_is_marked_read_only_by_its_recipient(engagement, ba, sme):
    [note] = services.notify(
        [sme],
        engagement=engagement,
        kind=NotificationKind.MENTIONED,
        subject="Hello",
        body="",
        url="",
        actor=ba,
    )
    with pytest.raises(PermissionDenied, match="This is not your notification."):
        services.notification_mark_read(notification=note, acting_user=UserFactory())
    services.notification_mark_read(notification=note, acting_user=sme)
    assert selectors.unread_count(user=sme) == 0
