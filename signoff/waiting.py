"""What the sign-off process asks of a user, for the home's "waiting for you" (workbench.waiting):
reviews to decide, mentions not answered, open questions to answer, rules to review. One query
per source whatever the number of engagements; who may do what is the policy's."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse

from mappings.choices import CommentKind, MappingStatus, SmeReview
from mappings.models import AttributeMapping, MappingComment
from workbench import policy
from workbench.models import Membership
from workbench.policy import Action
from workbench.waiting import WaitingItem, waiting_source

from .choices import OPEN_REVIEW_STATES
from .models import ReviewRequest

LIMIT = 50  # per source: the home is a to-do list, not an archive


def _holding(user, action: Action) -> Exists:
    """The user's membership of the row's engagement gives `action`."""
    return Exists(
        Membership.objects.filter(
            engagement=OuterRef("engagement"), user=user, role__in=policy.roles_allowed(action)
        )
    )


@waiting_source
def reviews_to_decide(*, user, engagements: dict[int, str]) -> list[WaitingItem]:
    reviews = (
        ReviewRequest.objects.filter(engagement_id__in=engagements, state__in=OPEN_REVIEW_STATES)
        .filter(policy.decidable_by(user))
        .exclude(Q(requested_by=user) | Q(version__created_by=user))  # someone else decides
        .select_related("engagement", "version", "requested_by")
        .defer("version__snapshot")
        .order_by("-requested_at")[:LIMIT]
    )
    return [
        WaitingItem(
            kind="review",
            label="Review",
            title=f"{r.get_gate_display()}: version {r.version.number} waits for your decision",
            detail=f"{r.version.scope_label} · asked by "
            f"{r.requested_by.get_full_name() or r.requested_by.username}",
            url=reverse("signoff-review", args=[r.engagement.slug, r.pk]),
            engagement=engagements[r.engagement_id],
            when=r.requested_at,
        )
        for r in reviews
    ]


def _comment_url(comment: MappingComment) -> str:
    url = reverse("mapping-entity", args=[comment.engagement.slug, comment.entity_mapping_id])
    return f"{url}#row-{comment.attribute_mapping_id}" if comment.attribute_mapping_id else url


def _target(comment: MappingComment) -> str:
    name = comment.entity_mapping.entity_name
    return (
        f"{name}.{comment.attribute_mapping.attribute_name}" if comment.attribute_mapping else name
    )


def _open_threads(user, engagements):
    """Comments of unresolved threads in the engagements, written by someone else, that the user
    has not answered since (a reply of theirs later in the same thread)."""
    thread = Coalesce(OuterRef("parent_id"), OuterRef("pk"))
    answered = MappingComment.objects.filter(
        parent_id=thread, author=user, created_at__gt=OuterRef("created_at")
    )
    return (
        MappingComment.objects.filter(engagement_id__in=engagements)
        .filter(Q(parent__isnull=True, resolved=False) | Q(parent__resolved=False))
        .exclude(author=user)
        .exclude(Exists(answered))
        .select_related("engagement", "entity_mapping", "attribute_mapping", "author")
        .order_by("-created_at")
    )


@waiting_source
def mentions_to_answer(*, user, engagements: dict[int, str]) -> list[WaitingItem]:
    # The JSON list is matched as text (portable across SQLite and PostgreSQL), then exactly.
    comments = _open_threads(user, engagements).filter(mentions__icontains=f'"{user.username}"')[
        :LIMIT
    ]
    return [
        WaitingItem(
            kind="mention",
            label="Mention",
            title=f"{c.author.get_full_name() or c.author.username} mentioned you on {_target(c)}",
            detail=c.text[:200],
            url=_comment_url(c),
            engagement=engagements[c.engagement_id],
            when=c.created_at,
        )
        for c in comments
        if user.username in (c.mentions or [])
    ]


@waiting_source
def questions_to_answer(*, user, engagements: dict[int, str]) -> list[WaitingItem]:
    """Open questions the user's role answers (whoever edits the mapping), not yet answered by
    them; a question that mentions them is listed once, as a mention."""
    questions = (
        _open_threads(user, engagements)
        .filter(parent__isnull=True, kind=CommentKind.QUESTION)
        .filter(_holding(user, Action.EDIT_MAPPING))
        .exclude(Exists(MappingComment.objects.filter(parent=OuterRef("pk"), author=user)))
    )[:LIMIT]
    return [
        WaitingItem(
            kind="question",
            label="Question",
            title=f"{q.author.get_full_name() or q.author.username} asks about {_target(q)}",
            detail=q.text[:200],
            url=_comment_url(q),
            engagement=engagements[q.engagement_id],
            when=q.created_at,
        )
        for q in questions
        if user.username not in (q.mentions or [])
    ]


@waiting_source
def rules_to_review(*, user, engagements: dict[int, str]) -> list[WaitingItem]:
    """Mapped rules the SME has not reviewed yet, one line per entity."""
    per_entity = (
        AttributeMapping.objects.filter(
            engagement_id__in=engagements,
            status=MappingStatus.MAPPED,
            sme_review=SmeReview.NOT_REVIEWED,
        )
        .filter(_holding(user, Action.REVIEW_MAPPING))
        .values(
            "engagement_id",
            "engagement__slug",
            "entity_mapping_id",
            "entity_mapping__entity_name",
        )
        .annotate(count=Count("id"))
        .order_by("engagement__name", "entity_mapping__entity_name")[:LIMIT]
    )
    return [
        WaitingItem(
            kind="sme_review",
            label="SME review",
            title=f"{row['entity_mapping__entity_name']}: {row['count']} mapped "
            f"rule{'s' if row['count'] != 1 else ''} not reviewed yet",
            detail="",
            url=reverse("mapping-entity", args=[row["engagement__slug"], row["entity_mapping_id"]]),
            engagement=engagements[row["engagement_id"]],
        )
        for row in per_entity
    ]
