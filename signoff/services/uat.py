"""UAT feedback items: raise, resolve, reopen (states along signoff.choices.UAT_MOVES)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from mappings.models import EntityMapping
from workbench import policy
from workbench.history import save_with_history
from workbench.models import Engagement, Membership
from workbench.policy import Action

from ..choices import UAT_MOVES, AuditKind, Gate, UatClassification, UatState
from ..models import UatItem
from ._common import _audit

UAT_FIELDS = {"entity_name", "attribute_name", "test_result_ref", "classification", "description"}


@transaction.atomic
def do_raise_uat_item(*, engagement: Engagement, data: dict, acting_user: User) -> UatItem:
    """Capture one UAT feedback item on an entity (or attribute) of the mapping."""
    policy.check(acting_user, engagement, Action.RAISE_UAT_FEEDBACK)
    unknown = set(data) - UAT_FIELDS - {"owner"}
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    entity_name = (data.get("entity_name") or "").strip()
    attribute_name = (data.get("attribute_name") or "").strip()
    entity = EntityMapping.objects.filter(engagement=engagement, entity_name=entity_name).first()
    if entity is None:
        raise ValidationError({"entity_name": f"'{entity_name}' is not an entity of the mapping."})
    if attribute_name and not entity.attributes.filter(attribute_name=attribute_name).exists():
        raise ValidationError(
            {"attribute_name": f"'{attribute_name}' is not an attribute of {entity_name}."}
        )
    if data.get("classification") not in UatClassification.values:
        raise ValidationError({"classification": "Choose Mapping change or ETL fix."})
    owner = _member(engagement, data.get("owner"), "owner")
    item = UatItem(
        engagement=engagement,
        entity_name=entity_name,
        attribute_name=attribute_name,
        test_result_ref=str(data.get("test_result_ref") or "").strip(),
        classification=data["classification"],
        description=(data.get("description") or "").strip(),
        owner=owner,
        raised_by=acting_user,
    )
    save_with_history(item, acting_user=acting_user)
    _audit(
        engagement,
        AuditKind.UAT_RAISED,
        acting_user,
        gate=Gate.UAT,
        to_state=item.state,
        message=f"#{item.pk} {item.target} ({item.get_classification_display()}): "
        f"{item.description[:200]}",
    )
    return item


def _member(engagement: Engagement, username, field: str):
    if not username:
        return None
    if isinstance(username, User):
        username = username.username
    membership = (
        Membership.objects.filter(engagement=engagement, user__username=username)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ValidationError({field: f"'{username}' is not a member of this engagement."})
    return membership.user


def _move_uat(item: UatItem, to_state: str, acting_user: User, kind: str, message: str) -> None:
    from_state = item.state
    if to_state not in UAT_MOVES[from_state]:
        raise ValidationError(
            f"UAT item #{item.pk} is already {UatState(from_state).label.lower()}."
        )
    item.state = to_state
    save_with_history(item, acting_user=acting_user)
    _audit(
        item.engagement,
        kind,
        acting_user,
        gate=Gate.UAT,
        from_state=from_state,
        to_state=to_state,
        message=f"#{item.pk} {item.target}: {message}".strip(": "),
    )


@transaction.atomic
def do_resolve_uat_item(*, item: UatItem, resolution: str, acting_user: User) -> UatItem:
    """Close a UAT item with how it was resolved: its owner, or who may raise UAT feedback."""
    item = UatItem.objects.select_for_update().get(pk=item.pk)
    engagement = item.engagement
    policy.check(acting_user, engagement, Action.VIEW)
    if item.owner_id != acting_user.pk and not policy.can(
        acting_user, engagement, Action.RAISE_UAT_FEEDBACK
    ):
        raise PermissionDenied("Only the item's owner, a Tech BA or a Client SME resolves it.")
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": "Say how the item was resolved."})
    item.resolution = resolution
    item.resolved_by = acting_user
    item.resolved_at = timezone.now()
    _move_uat(item, UatState.RESOLVED, acting_user, AuditKind.UAT_RESOLVED, resolution)
    return item


@transaction.atomic
def do_reopen_uat_item(*, item: UatItem, acting_user: User, reason: str = "") -> UatItem:
    item = UatItem.objects.select_for_update().get(pk=item.pk)
    policy.check(acting_user, item.engagement, Action.RAISE_UAT_FEEDBACK)
    item.resolved_by = None
    item.resolved_at = None
    _move_uat(item, UatState.OPEN, acting_user, AuditKind.UAT_REOPENED, reason.strip())
    return item
