"""An entity's status follows its attributes: all done → Mapped, none done and no FROM clause →
Unmapped, anything between → Draft (in progress). Blocked is a decision and is kept.

The one place the derivation lives. The services store the result on every write that can change
it (an attribute's rule or status, the entity's FROM clause, new attributes from the contract),
so the overview, the grid header, the workbook and the snapshot the SME approves all read the
same stored value.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Count, Q

from workbench.history import save_with_history

from .choices import ATTRIBUTE_DONE_STATES, ENTITY_DECISION_STATES, EntityStatus
from .models import EntityMapping

DONE = [s.value for s in ATTRIBUTE_DONE_STATES]


def entity_status_derived(*, total: int, done: int, has_from: bool) -> str:
    """The status `total` attributes of which `done` are done give an entity."""
    if total and done == total:
        return EntityStatus.MAPPED
    if done or has_from:
        return EntityStatus.DRAFT
    return EntityStatus.UNMAPPED


def entity_status_of(entity_mapping: EntityMapping) -> str:
    """What the entity's attributes (as stored) make its status, Blocked aside; one query."""
    counts = entity_mapping.attributes.aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(status__in=DONE))
    )
    return entity_status_derived(
        total=counts["total"], done=counts["done"], has_from=bool(entity_mapping.driving_table)
    )


def entity_status_apply(entity_mapping: EntityMapping) -> bool:
    """Set the derived status on the (unsaved) entity unless it holds a decision; True when it
    changed."""
    if entity_mapping.status in ENTITY_DECISION_STATES:
        return False
    derived = entity_status_of(entity_mapping)
    if derived == entity_mapping.status:
        return False
    entity_mapping.status = derived
    return True


def entity_status_refresh(*, entity_mapping: EntityMapping, acting_user: User) -> EntityMapping:
    """Store the derived status after its attributes changed (a new row version, in history)."""
    current = EntityMapping.objects.select_for_update().get(pk=entity_mapping.pk)
    if entity_status_apply(current):
        current.row_version += 1
        current.updated_by = acting_user
        save_with_history(current, acting_user=acting_user, relations_as_loaded=True)
    return current
