"""The SME's day: the home lists what waits for them across engagements; the review page shows
what is being approved (the changes since the last approval, the open GAP items and threads) and
takes the decision; the Cover and the review page agree on "changed since"."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts import services as contract_services
from contracts.demo import DEMO_CONTRACT
from exports.services import spec as export_services
from mappings.models import AttributeMapping, EntityMapping
from mappings.services import mapping as mapping_services
from signoff import services
from signoff.choices import Gate, ReviewState
from workbench import services as workbench_services
from workbench.choices import Role, SignoffGate

from ..factories import EngagementFactory, MembershipFactory

pytestmark = pytest.mark.django_db

SLUG = "acme-360"


def review_url(review):
    return reverse("signoff-review", args=[SLUG, review.pk])


def email_of(engagement):
    return AttributeMapping.objects.get(
        engagement=engagement, entity_mapping__entity_name="customer", attribute_name="email"
    )


def home(client):
    return client.get(reverse("engagement-list")).content.decode()


def test_the_sme_sees_what_waits_acts_on_the_review_page_and_the_home_empties(
    client, ready, ba, sme
):
    # Given version 1 submitted for the mapping sign-off and a question mentioning the SME
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    email = email_of(ready)
    mapping_services.comment_add(
        mapping=email, text="@sme is a blank email a lapsed customer?", acting_user=ba
    )

    # When the SME opens the home
    client.force_login(sme)
    page = home(client)

    # Then the review and the mention wait for them, each linking where they act
    assert "Waiting for you" in page
    assert "Mapping sign-off: version 1 waits for your decision" in page
    assert f'href="{review_url(review)}"' in page
    assert "mentioned you on customer.email" in page
    entity_url = reverse("mapping-entity", args=[SLUG, email.entity_mapping_id])
    assert f'href="{entity_url}#row-{email.pk}"' in page

    # When they open the review: the first approval lists what it approves, the open GAP
    # items with the row to fix, the open thread, and the buttons
    page = client.get(review_url(review)).content.decode()
    assert "What is approved for the first time" in page
    assert "<strong>customer</strong>" in page and "<strong>campaign</strong>" in page
    assert "Open GAP items (" in page
    assert "is a blank email a lapsed customer?" in page
    assert "Approve version 1" in page and "Request changes" in page

    # When they approve from the page
    response = client.post(
        review_url(review), {"action": "decide", "verdict": "approve", "comment": "Agreed."}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED

    # Then the home no longer lists the review (the mention is still unanswered)
    page = home(client)
    assert "waits for your decision" not in page
    assert "mentioned you on customer.email" in page

    # When the BA changes a rule and submits version 2
    mapping_services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "LOWER(c.email)"}, acting_user=ba
    )
    second = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)

    # Then its review page shows exactly that change, before and after, since version 1
    page = client.get(review_url(second)).content.decode()
    assert "What changed since version 1 was approved" in page
    assert "1 attribute changed" in page
    assert "LOWER(TRIM(c.email))" in page and "LOWER(c.email)" in page
    assert "entities added" not in page and "entity added" not in page


def cover_spec_version(engagement, user) -> str:
    buffer = io.BytesIO()
    export_services.spec_export(engagement=engagement, acting_user=user, stream=buffer)
    rows = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["Cover"].iter_rows(
        values_only=True
    )
    values = {row[0]: row[1] for row in rows if row and row[0]}
    return values["Spec Version"]


def test_the_cover_and_the_review_page_agree_on_changed_since_the_approval(client, ready, ba, sme):
    # Given a review of one entity approved (the other entities are not part of it)
    review = services.do_submit_for_review(
        engagement=ready, gate=Gate.MAPPING, entities=["customer"], acting_user=ba
    )
    services.do_decide(review=review, verdict="approve", acting_user=sme)
    client.force_login(sme)

    # Then the Cover and the review page both say unchanged
    assert cover_spec_version(ready, ba) == "working copy (customer unchanged since version 1)"
    page = client.get(review_url(review)).content.decode()
    assert "The working mapping is identical to version 1 in customer." in page
    assert "Changed since sign-off" not in page

    # When a rule of the approved entity changes, both say changed
    mapping_services.attribute_mapping_update(
        attribute_mapping=email_of(ready),
        data={"transformation": "LOWER(c.email)"},
        acting_user=ba,
    )
    assert cover_spec_version(ready, ba) == "working copy (changed since version 1)"
    page = client.get(review_url(review)).content.decode()
    assert "Changed since sign-off" in page
    assert "LOWER(c.email)" in page


def test_a_viewer_cannot_approve_and_an_outsider_sees_no_review(
    client, ready, ba, viewer, outsider
):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)

    client.force_login(viewer)
    page = client.get(review_url(review)).content.decode()
    assert "Approve version 1" not in page
    assert "A Viewer never decides" in page
    response = client.post(review_url(review), {"action": "decide", "verdict": "approve"})
    assert response.status_code == 403
    assert "waits for your decision" not in home(client)

    client.force_login(outsider)
    assert client.get(review_url(review)).status_code == 404
    assert (
        client.post(review_url(review), {"action": "decide", "verdict": "approve"}).status_code
        == 404
    )
    # nor under their own engagement's address
    other = reverse("signoff-review", args=["other-engagement", review.pk])
    assert client.get(other).status_code == 404
    assert "waits for your decision" not in home(client)

    review.refresh_from_db()
    assert review.state == ReviewState.REQUESTED
    assert not review.decisions.exists()


def another_engagement_waiting_for(sme, ba, lead, slug: str):
    """A second engagement where the same SME owns the mapping sign-off, with a review and a
    question mentioning them."""
    engagement = EngagementFactory(slug=slug, name=slug.title(), created_by=lead)
    for user, role in ((ba, Role.TECH_BA), (sme, Role.CLIENT_SME)):
        MembershipFactory(engagement=engagement, user=user, role=role)
    layer = contract_services.contract_import(
        engagement=engagement,
        file_name=DEMO_CONTRACT.name,
        content=DEMO_CONTRACT.read_bytes(),
        acting_user=ba,
    )
    contract_services.contract_publish(layer=layer, acting_user=ba)
    mapping_services.mapping_prepare(engagement=engagement, acting_user=ba)
    workbench_services.signoff_owner_set(
        engagement=engagement, gate=SignoffGate.MAPPING, username=sme.username, acting_user=lead
    )
    services.do_submit_for_review(engagement=engagement, gate=Gate.MAPPING, acting_user=ba)
    entity = EntityMapping.objects.filter(engagement=engagement).first()
    mapping_services.comment_add(mapping=entity, text=f"@{sme.username} which key?", acting_user=ba)
    return engagement


def test_the_home_reads_a_fixed_number_of_queries_whatever_the_number_of_engagements(
    client, ready, ba, sme, lead, django_assert_max_num_queries
):
    services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)
    mapping_services.comment_add(
        mapping=email_of(ready), text="@sme is a blank email a lapsed customer?", acting_user=ba
    )
    client.force_login(sme)
    with CaptureQueriesContext(connection) as one:
        assert home(client).count('class="waiting-review"') == 1

    for slug in ("beta", "gamma"):
        another_engagement_waiting_for(sme, ba, lead, slug)
    with django_assert_max_num_queries(len(one)):
        page = home(client)
    assert page.count('class="waiting-review"') == 3
    assert page.count('class="waiting-mention"') == 3
    assert "Beta" in page and "Gamma" in page
