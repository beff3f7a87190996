"""Two deciders at the same moment: real transactions in two threads with their own database
connections. The review row is locked (select_for_update on PostgreSQL, SQLite's write lock taken
first), so the second decider reads the first one's result and is refused: one decision, one
state, one audit row."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from signoff import services
from signoff.choices import AuditKind, Gate, ReviewState
from signoff.models import AuditEvent, Decision, ReviewRequest

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    """Run the calls at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, fn):
        try:
            barrier.wait()
            outcomes[index] = ("ok", fn())
        except (ValidationError, PermissionDenied) as refused:
            outcomes[index] = ("refused", " ".join(getattr(refused, "messages", [str(refused)])))
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            outcomes[index] = ("error", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _approve(review_pk, user, verdict="approve", comment=""):
    def call():
        review = ReviewRequest.objects.get(pk=review_pk)
        return services.do_decide(review=review, verdict=verdict, comment=comment, acting_user=user)

    return call


def _check_one_decision(review, outcomes, refusal):
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["ok", "refused"], outcomes
    assert [message for kind, message in outcomes if kind == "refused"] == [refusal]
    assert Decision.objects.filter(review=review).count() == 1
    assert (
        AuditEvent.objects.filter(
            review=review, kind__in=[AuditKind.REVIEW_APPROVED, AuditKind.REVIEW_REJECTED]
        ).count()
        == 1
    )


def test_two_approvals_at_the_same_moment_make_one_decision(ready, ba, sme):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)

    outcomes = _race(_approve(review.pk, sme), _approve(review.pk, sme))

    _check_one_decision(review, outcomes, "Version 1 is already approved for the Mapping sign-off.")
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED


def test_approve_and_reject_at_the_same_moment_leave_one_consistent_outcome(ready, ba, sme):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)

    outcomes = _race(
        _approve(review.pk, sme), _approve(review.pk, sme, "reject", "Address needs work")
    )

    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
    review.refresh_from_db()
    decision = Decision.objects.get(review=review)
    expected = (
        ReviewState.APPROVED if decision.verdict == "approve" else ReviewState.CHANGES_REQUESTED
    )
    assert review.state == expected


def test_approving_while_the_requester_cancels_leaves_one_outcome(ready, ba, sme):
    review = services.do_submit_for_review(engagement=ready, gate=Gate.MAPPING, acting_user=ba)

    def cancel():
        return services.do_cancel_review(
            review=ReviewRequest.objects.get(pk=review.pk), acting_user=ba
        )

    outcomes = _race(_approve(review.pk, sme), cancel)

    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
    review.refresh_from_db()
    decided = Decision.objects.filter(review=review).exists()
    assert review.state == (ReviewState.APPROVED if decided else ReviewState.CANCELLED)
