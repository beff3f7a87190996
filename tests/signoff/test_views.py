"""Pages of sign-off: each renders for members, 404 for outsiders, 403 for roles without the
right; forms call the services and show refusals inline; list pages pin their query count."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from mappings.models import EntityMapping
from mappings.services import mapping as mapping_services
from signoff import services
from signoff.choices import CutoverStep, Gate, ReviewState
from signoff.models import ReviewRequest, UatItem
from workbench.models import Notification

pytestmark = pytest.mark.django_db

SLUG = "acme-360"


def url(name, *args):
    return reverse(name, args=[SLUG, *args])


@pytest.fixture
def review(ready, ba):
    return services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)


@pytest.fixture
def item(ready, sme):
    return services.do_raise_uat_item(
        engagement=ready,
        data={
            "entity_name": "customer",
            "classification": "mapping_change",
            "description": "Lapsed after 12 months",
        },
        acting_user=sme,
    )


def pages(review, item):
    return [
        url("signoff-overview"),
        url("signoff-version", 1),
        url("signoff-review", review.pk),
        url("signoff-uat"),
        url("signoff-cutover"),
        url("signoff-audit"),
        url("signoff-inbox"),
    ]


def test_every_page_renders_for_a_member_and_is_hidden_from_outsiders(
    client, review, item, viewer, outsider
):
    client.force_login(viewer)
    for page in pages(review, item):
        response = client.get(page)
        assert response.status_code == 200, page
    client.force_login(outsider)
    for page in pages(review, item):
        assert client.get(page).status_code == 404, page
    client.logout()
    assert client.get(url("signoff-overview")).status_code == 302


def test_the_ba_submits_from_the_overview_and_lands_on_the_review(client, ready, ba):
    client.force_login(ba)
    page = client.get(url("signoff-overview"))
    assert b"Freeze and submit" in page.content
    response = client.post(
        url("signoff-overview"), {"gate": "mapping", "entities": ["customer"], "message": "Hi"}
    )
    review = ReviewRequest.objects.get()
    assert response.status_code == 302
    assert response.url == url("signoff-review", review.pk)
    assert review.version.entities == ["customer"]


def test_a_viewer_cannot_submit_and_sees_no_form(client, ready, viewer):
    client.force_login(viewer)
    assert b"Freeze and submit" not in client.get(url("signoff-overview")).content
    assert client.post(url("signoff-overview"), {"gate": "mapping"}).status_code == 403
    assert not ReviewRequest.objects.exists()


def test_a_refused_submission_is_shown_inline(client, mapped, ba):
    client.force_login(ba)
    response = client.post(url("signoff-overview"), {"gate": "mapping"})
    assert response.status_code == 400
    assert "Nobody is named to give the Mapping sign-off: name its owner first." in (
        response.content.decode()
    )


def test_the_owner_approves_on_the_review_page(client, review, sme):
    client.force_login(sme)
    page = client.get(url("signoff-review", review.pk)).content.decode()
    assert "Approve version 1" in page
    assert review.version.content_hash in page
    response = client.post(
        url("signoff-review", review.pk), {"action": "decide", "verdict": "approve", "comment": ""}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED


def test_a_rejection_without_comment_is_refused_inline(client, review, sme):
    client.force_login(sme)
    response = client.post(
        url("signoff-review", review.pk), {"action": "decide", "verdict": "reject", "comment": ""}
    )
    assert response.status_code == 400
    assert "Say what needs to change: a rejection needs a comment." in response.content.decode()
    review.refresh_from_db()
    assert review.state == ReviewState.REQUESTED


def test_deciding_a_gate_one_does_not_own_is_forbidden(client, review, other_sme, viewer):
    for user in (other_sme, viewer):
        client.force_login(user)
        page = client.get(url("signoff-review", review.pk)).content.decode()
        assert "Approve version 1" not in page
        response = client.post(
            url("signoff-review", review.pk), {"action": "decide", "verdict": "approve"}
        )
        assert response.status_code == 403
    review.refresh_from_db()
    assert review.state == ReviewState.REQUESTED


def test_a_change_after_signoff_is_flagged_with_its_diff(client, review, ready, ba, sme):
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    email = EntityMapping.objects.get(engagement=ready, entity_name="customer").attributes.get(
        attribute_name="email"
    )
    mapping_services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "LOWER(c.email)"}, acting_user=ba
    )
    client.force_login(ba)
    for page in (url("signoff-overview"), url("signoff-review", review.pk)):
        content = client.get(page).content.decode()
        assert "Changed since sign-off" in content
        assert "LOWER(TRIM(c.email))" in content and "LOWER(c.email)" in content
    dashboard = client.get(reverse("engagement-dashboard", args=[SLUG])).content.decode()
    assert "changed since sign-off: customer" in dashboard


def test_version_page_compares_with_another_version(client, ready, ba):
    services.do_submit_version(engagement=ready, acting_user=ba)
    services.do_submit_version(engagement=ready, entities=["campaign"], acting_user=ba)
    client.force_login(ba)
    response = client.get(url("signoff-version", 1) + "?against=2")
    assert response.status_code == 200
    assert client.get(url("signoff-version", 9)).status_code == 404


def test_uat_page_raises_and_resolves(client, ready, sme, ba, viewer):
    client.force_login(sme)
    response = client.post(
        url("signoff-uat"),
        {"entity_name": "campaign", "classification": "etl_fix", "description": "Budget in pence"},
    )
    assert response.status_code == 302
    item = UatItem.objects.get()
    response = client.post(url("signoff-uat-resolve", item.pk), {"resolution": ""})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == "open"  # refused: the message is flashed
    client.post(url("signoff-uat-resolve", item.pk), {"resolution": "Divided by 100"})
    item.refresh_from_db()
    assert item.state == "resolved"
    client.force_login(viewer)
    assert client.post(url("signoff-uat"), {"entity_name": "campaign"}).status_code == 403
    assert client.post(url("signoff-uat-reopen", item.pk)).status_code == 403


def test_cutover_page_ticks_by_role(client, ready, etl, viewer, ops):
    client.force_login(etl)
    page = client.get(url("signoff-cutover")).content.decode()
    assert "Tick “Pipelines deployed”" in page
    assert "Tick “Load schedule confirmed by Client Ops”" not in page
    client.post(url("signoff-cutover"), {"step": CutoverStep.PIPELINES_DEPLOYED})
    assert "Ticked by" in client.get(url("signoff-cutover")).content.decode()
    client.force_login(viewer)
    response = client.post(url("signoff-cutover"), {"step": CutoverStep.SCHEDULE_CONFIRMED})
    assert response.status_code == 403


def test_audit_page_filters_and_exports_csv(client, review, sme, ready, ba):
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    client.force_login(ba)
    page = client.get(url("signoff-audit") + "?actor=sme").content.decode()
    assert "<td>Approved</td>" in page and "<td>Review requested</td>" not in page
    response = client.get(url("signoff-audit") + "?gate=mapping&format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "When",
        "Event",
        "Gate",
        "Actor",
        "Version",
        "Content hash",
        "From",
        "To",
        "Message",
    ]
    assert [r[1] for r in rows[1:]] == ["Approved", "Review requested"]
    assert rows[1][5] == review.version.content_hash
    assert len(rows) == 3  # the version's own event has no gate


def test_inbox_shows_the_count_and_marks_read(client, review, sme):
    client.force_login(sme)
    page = client.get(url("signoff-overview")).content.decode()
    assert 'aria-label="Inbox, 1 unread"' in page
    note = Notification.objects.get(recipient=sme)
    response = client.post(url("signoff-inbox"), {"notification": note.pk, "open": "1"})
    assert response.url == url("signoff-review", review.pk)
    assert 'aria-label="Inbox, 0 unread"' in client.get(url("signoff-inbox")).content.decode()


def _grow(engagement, ba, sme, times):
    """More versions, reviews, decisions and audit rows."""
    for n in range(times):
        gate = [Gate.MAPPING, Gate.UAT, Gate.CUTOVER][n % 3]
        review = services.do_submit_for_review(engagement=engagement, gate=gate, acting_user=ba)
        if gate == Gate.MAPPING:
            services.do_decide(review=review, verdict="approve", acting_user=sme)
        email = EntityMapping.objects.get(
            engagement=engagement, entity_name="customer"
        ).attributes.get(attribute_name="email")
        mapping_services.attribute_mapping_update(
            attribute_mapping=email,
            data={"edge_cases": f"round {n}"},
            acting_user=ba,
        )


@pytest.mark.parametrize(
    "name", ["signoff-overview", "signoff-audit", "signoff-uat", "signoff-inbox", "signoff-cutover"]
)
def test_list_pages_keep_a_bounded_number_of_queries(
    client, ready, ba, sme, django_assert_max_num_queries, name
):
    client.force_login(sme)
    _grow(ready, ba, sme, 3)
    with django_assert_max_num_queries(40) as small:
        client.get(url(name))
    _grow(ready, ba, sme, 9)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url(name)).status_code == 200
