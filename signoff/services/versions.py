"""Spec versions: freezing the working mapping (mappings.snapshot) as the next numbered version."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from mappings.models import EntityMapping
from mappings.snapshot import content_hash, part_hashes, spec_snapshot
from workbench import policy
from workbench.history import save_with_history
from workbench.models import Engagement
from workbench.policy import Action

from .. import selectors
from ..choices import AuditKind
from ..models import SpecVersion, SpecVersionEntity
from ._common import _audit


def _check_entities(engagement: Engagement, entities: list[str] | None) -> list[str]:
    entities = sorted({e.strip() for e in (entities or []) if e and e.strip()})
    known = set(
        EntityMapping.objects.filter(engagement=engagement).values_list("entity_name", flat=True)
    )
    if not known:
        raise ValidationError("There is no mapping to submit yet: prepare the mapping first.")
    unknown = [e for e in entities if e not in known]
    if unknown:
        raise ValidationError({"entities": f"Not an entity of the mapping: {', '.join(unknown)}."})
    return entities


@transaction.atomic
def do_submit_version(
    *, engagement: Engagement, acting_user: User, entities: list[str] | None = None, note: str = ""
) -> SpecVersion:
    """Freeze the current mapping (or the chosen entities) as the next numbered spec version."""
    policy.check(acting_user, engagement, Action.SUBMIT_FOR_REVIEW)
    entities = _check_entities(engagement, entities)
    Engagement.objects.select_for_update().filter(pk=engagement.pk).first()  # numbers in order
    snapshot = spec_snapshot(engagement=engagement, entities=entities or None)
    latest = selectors.latest_version(engagement=engagement)
    contract = snapshot["contract"] or {}
    version = SpecVersion(
        engagement=engagement,
        number=(latest.number + 1) if latest else 1,
        entities=entities,
        snapshot=snapshot,
        content_hash=content_hash(snapshot),
        contract_name=contract.get("name", ""),
        contract_version=contract.get("version", ""),
        note=note.strip(),
        created_by=acting_user,
    )
    save_with_history(version, acting_user=acting_user)
    _store_parts(version)
    _audit(
        engagement,
        AuditKind.VERSION_SUBMITTED,
        acting_user,
        version=version,
        content_hash=version.content_hash,
        message=f"Version {version.number} ({version.scope_label}), hash {version.short_hash}.",
    )
    return version


def _store_parts(version: SpecVersion) -> None:
    """The version's entity parts with their hashes, derived once from its frozen snapshot
    (plain inserts: the rows are as immutable as the snapshot, which history leaves out too)."""
    parts = []
    for name, part in version.snapshot["entities"].items():
        spec_hash, attribute_hashes = part_hashes(part)
        parts.append(
            SpecVersionEntity(
                version=version,
                entity_name=name,
                spec_hash=spec_hash,
                attribute_hashes=attribute_hashes,
                part=part,
            )
        )
    SpecVersionEntity.objects.bulk_create(parts, batch_size=500)
