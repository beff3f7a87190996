"""What the sign-off commands share: reading a gate as typed, a review as a JSON-ready dict."""

from __future__ import annotations

from signoff.choices import Gate
from signoff.models import ReviewRequest
from workbench.management.args import choice_value

# "etl" names the ETL sign-off, which is given at the UAT gate (workbench.policy.GATE_OWNER).
GATE_ALIASES = {"etl": Gate.UAT, "ETL sign-off": Gate.UAT}
GATE_HELP = "mapping, uat (also: etl, the ETL sign-off given at UAT) or cutover"


def gate_value(text: str) -> str:
    return choice_value(Gate, text, "gate", aliases=GATE_ALIASES)


def review_data(review: ReviewRequest) -> dict:
    return {
        "id": review.pk,
        "gate": review.gate,
        "gate_label": review.get_gate_display(),
        "version": review.version.number,
        "content_hash": review.version.content_hash,
        "entities": review.version.entities,
        "state": review.state,
        "message": review.message,
        "requested_by": review.requested_by.username,
        "requested_at": review.requested_at,
        "decisions": [
            {
                "verdict": decision.verdict,
                "by": decision.decided_by.username,
                "comment": decision.comment,
                "at": decision.decided_at,
            }
            for decision in review.decisions.all()
        ],
    }


def review_line(review: ReviewRequest) -> str:
    return (
        f"#{review.pk:<4} {review.get_gate_display():<18} version {review.version.number:<4} "
        f"{review.get_state_display():<18} requested by {review.requested_by.username}"
    )
