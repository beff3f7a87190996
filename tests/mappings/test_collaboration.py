"""The ETL Developer's feasibility verdicts, the SME's review, and threaded comments."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mappings.choices import CommentKind, Feasibility, SmeReview
from mappings.models import MappingComment
from mappings.services import mapping as services

from .conftest import attribute


def test_the_etl_developer_gives_a_verdict_with_a_comment(customer, etl_dev):
    phone = attribute(customer, "phone")
    services.feasibility_set(
        mapping=phone,
        verdict=Feasibility.CONCERNS,
        comment="Five phone formats; normalising to E.164 needs a UDF.",
        acting_user=etl_dev,
    )
    phone.refresh_from_db()
    assert phone.feasibility == Feasibility.CONCERNS
    assert phone.history.first().history_user == etl_dev
    comment = MappingComment.objects.get()
    assert (comment.kind, comment.attribute_mapping) == (CommentKind.FEASIBILITY, phone)
    assert comment.text.startswith("Feasible with concerns: Five phone formats")


def test_a_not_feasible_verdict_must_say_why(customer, etl_dev):
    with pytest.raises(ValidationError) as refused:
        services.feasibility_set(
            mapping=customer, verdict=Feasibility.NOT_FEASIBLE, comment="", acting_user=etl_dev
        )
    assert refused.value.message_dict == {"comment": ["Say why: “Not feasible” needs a comment."]}
    customer.refresh_from_db()
    assert customer.feasibility == Feasibility.NOT_ASSESSED


def test_only_the_etl_developer_gives_feasibility(customer, ba, sme):
    for user in (ba, sme):
        with pytest.raises(PermissionDenied):
            services.feasibility_set(
                mapping=customer, verdict=Feasibility.FEASIBLE, comment="", acting_user=user
            )


def test_the_sme_agrees_or_raises_a_query(customer, sme):
    email = attribute(customer, "email")
    services.sme_review_set(attribute_mapping=email, state=SmeReview.AGREED, acting_user=sme)
    assert email.sme_review == SmeReview.AGREED

    with pytest.raises(ValidationError, match="Write the query you are raising"):
        services.sme_review_set(
            attribute_mapping=email, state=SmeReview.QUERY_RAISED, acting_user=sme
        )
    services.sme_review_set(
        attribute_mapping=email,
        state=SmeReview.QUERY_RAISED,
        comment="Should web sign-ups without consent be loaded?",
        acting_user=sme,
    )
    question = MappingComment.objects.get()
    assert (question.kind, question.resolved) == (CommentKind.QUESTION, False)


def test_only_the_sme_reviews(customer, ba):
    with pytest.raises(PermissionDenied):
        services.sme_review_set(
            attribute_mapping=attribute(customer, "email"), state=SmeReview.AGREED, acting_user=ba
        )


def test_comments_thread_mention_members_and_resolve(customer, ba, sme, outsider):
    question = services.comment_add(
        mapping=attribute(customer, "email"),
        text="@sme is the CRM email the marketing email? cc @outsider @nobody",
        acting_user=ba,
    )
    assert question.mentions == ["sme"]

    reply = services.comment_add(
        mapping=attribute(customer, "email"), text="Yes.", parent=question, acting_user=sme
    )
    nested = services.comment_add(
        mapping=attribute(customer, "email"), text="Thanks", parent=reply, acting_user=ba
    )
    assert nested.parent == question  # threads stay one level deep

    services.comment_resolve(comment=question, acting_user=ba)
    question.refresh_from_db()
    assert (question.resolved, question.resolved_by) == (True, ba)
    with pytest.raises(ValidationError, match="Resolve the thread, not a reply"):
        services.comment_resolve(comment=reply, acting_user=ba)


def test_an_empty_comment_is_refused(customer, ba):
    with pytest.raises(ValidationError, match="Write something"):
        services.comment_add(mapping=customer, text="  ", acting_user=ba)
    assert not MappingComment.objects.exists()


def test_a_viewer_cannot_comment(customer, viewer):
    with pytest.raises(PermissionDenied):
        services.comment_add(mapping=customer, text="Hello", acting_user=viewer)


def test_a_mentioned_member_is_notified(
    customer, ba, sme, mailoutbox, django_capture_on_commit_callbacks
):
    from workbench.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        services.comment_add(
            mapping=customer, text="@sme can you check the filter?", acting_user=ba
        )
    [note] = Notification.objects.filter(recipient=sme)
    assert "mentioned you on customer" in note.subject
    assert [m.to for m in mailoutbox] == [[sme.email]]
