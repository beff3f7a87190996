"""Reads of signoff: diffs of versions, "changed since sign-off", the sign-off table, review and
audit lists, the inbox.

Public for other apps (keep the signatures stable):
- `current_snapshot(engagement=, entities=None) -> dict`, `content_hash(snapshot) -> str` and
  `diff_snapshots(before, after) -> list[FieldChange]`: re-exported from mappings.snapshot
- `changed_since_signoff(engagement=, gate="mapping") -> dict`
- `signoff_table(engagement=) -> list[dict]`
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from django.db.models import Q

from contracts.selectors import published_layer
from mappings import snapshot as spec
from mappings.models import AttributeMapping, EntityMapping
from mappings.snapshot import FieldChange, diff_snapshots, restrict_snapshot
from workbench import selectors as workbench_selectors
from workbench.choices import Role
from workbench.models import Engagement

from .choices import OPEN_REVIEW_STATES, CutoverStep, Gate, ReviewState, UatState, Verdict
from .models import CutoverItem, Decision, ReviewRequest, SpecVersion, SpecVersionEntity, UatItem

# The snapshot is defined in mappings.snapshot; its names stay importable from here for callers.
current_snapshot = spec.spec_snapshot
content_hash = spec.content_hash
canonical_json = spec.canonical_json
ENTITY_SPEC_FIELDS = spec.ENTITY_SPEC_FIELDS
ATTRIBUTE_SPEC_FIELDS = spec.ATTRIBUTE_SPEC_FIELDS


def version_diff(
    *, version: SpecVersion, against: SpecVersion | None = None, current: dict | None = None
) -> list[FieldChange]:
    """Changes from `version` to `against` (a later version), or to the current working mapping.

    Only the entities `version` froze are compared when it froze some.
    """
    if against is not None:
        scope = version.entities or against.entities or None
        return diff_snapshots(
            restrict_snapshot(version.snapshot, scope), restrict_snapshot(against.snapshot, scope)
        )
    if current is not None:
        return diff_snapshots(
            version.snapshot, restrict_snapshot(current, version.entities or None)
        )
    return _diff_to_working(version)


def _diff_to_working(version: SpecVersion) -> list[FieldChange]:
    """The version's changes to the working mapping, reading only the entities whose hash
    differs (and the ones a whole-spec version did not have)."""
    engagement = version.engagement
    approved = _version_hashes([version.pk], None)[version.pk]
    working = _entity_rows(engagement, version.entities or None)
    changed = {name for name, h in approved.items() if working.get(name, (None, None))[1] != h}
    added = set() if version.entities else set(working) - set(approved)
    layer = published_layer(engagement=engagement)
    before = {
        "contract": _contract_of(version.contract_name, version.contract_version),
        "entities": _parts({name: version.pk for name in changed}, "part"),
    }
    after = {
        "contract": {"name": layer.name, "version": layer.version} if layer else None,
        "entities": {},
    }
    if changed or added:
        after["entities"] = current_snapshot(
            engagement=engagement, entities=sorted(changed | added)
        )["entities"]
    return diff_snapshots(before, after)


def _contract_of(name: str, version: str) -> dict | None:
    return {"name": name, "version": version} if name else None


# --- versions and reviews ----------------------------------------------------------------------


def latest_version(*, engagement: Engagement) -> SpecVersion | None:
    return SpecVersion.objects.filter(engagement=engagement).order_by("-number").first()


def superseding_version(version: SpecVersion) -> SpecVersion | None:
    """The newest later version that covers every entity `version` froze, if any."""
    later = SpecVersion.objects.filter(
        engagement_id=version.engagement_id, number__gt=version.number
    ).order_by("-number")
    for candidate in later.only("id", "number", "entities", "engagement_id"):
        if not candidate.entities:
            return candidate
        if version.entities and set(version.entities) <= set(candidate.entities):
            return candidate
    return None


def version_list(*, engagement: Engagement):
    return (
        SpecVersion.objects.filter(engagement=engagement)
        .defer("snapshot")
        .select_related("created_by")
        .order_by("-number")
    )


def review_list(*, engagement: Engagement, gate: str | None = None):
    reviews = (
        ReviewRequest.objects.filter(engagement=engagement)
        .select_related("version", "requested_by", "superseded_by__version")
        .defer("version__snapshot", "superseded_by__version__snapshot")
        .prefetch_related("decisions__decided_by")
    )
    return reviews.filter(gate=gate) if gate else reviews


def open_reviews(*, engagement: Engagement):
    return review_list(engagement=engagement).filter(state__in=OPEN_REVIEW_STATES)


def latest_review(*, engagement: Engagement, gate: str) -> ReviewRequest | None:
    return review_list(engagement=engagement, gate=gate).order_by("-requested_at", "-id").first()


def open_uat_items(*, engagement: Engagement):
    return UatItem.objects.filter(engagement=engagement, state=UatState.OPEN)


def uat_items(*, engagement: Engagement):
    return UatItem.objects.filter(engagement=engagement).select_related(
        "owner", "raised_by", "resolved_by"
    )


def cutover_checklist(*, engagement: Engagement) -> list[CutoverItem]:
    """One item per cutover step in process order; steps never ticked are unsaved placeholders."""
    existing = {
        item.step: item
        for item in CutoverItem.objects.filter(engagement=engagement).select_related("ticked_by")
    }
    return [
        existing.get(step) or CutoverItem(engagement=engagement, step=step) for step in CutoverStep
    ]


# --- what a review approves ----------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalChanges:
    """What approving a review approves, against the newest earlier approval of its gate."""

    since: int | None  # that approval's version number; None: nothing approved before
    added: dict[str, int]  # entities new to approval → their attribute count
    removed: list[str]  # entities approved before that the version no longer has
    changes: list[FieldChange]  # the field changes of the entities in both, before → after

    @property
    def attributes_changed(self) -> int:
        return len({(c.entity, c.attribute) for c in self.changes if c.attribute})

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changes)


def changes_to_approve(*, review: ReviewRequest) -> ApprovalChanges:
    """The review's version against the newest earlier approval of its gate covering each of its
    entities, compared by hashes first: only the differing entities' frozen parts are read."""
    version = review.version
    earlier = list(
        _approvals(review.engagement, review.gate).filter(version__number__lt=version.number)
    )
    mine = _version_hashes([version.pk], None)[version.pk]
    approved = _version_hashes(list({d.version_id for d in earlier}), None)
    covering: dict[str, int] = {}
    for decision in earlier:  # newest first
        for name in approved[decision.version_id]:
            covering.setdefault(name, decision.version_id)
    if version.entities:  # a version of some entities approves those only
        covering = {name: pk for name, pk in covering.items() if name in mine}
    both = {name for name in mine if name in covering}
    differing = {name for name in both if approved[covering[name]][name] != mine[name]}
    added = _parts({name: version.pk for name in set(mine) - both}, "part")
    before = _parts({name: covering[name] for name in differing}, "part")
    after = _parts({name: version.pk for name in differing}, "part")
    last = earlier[0].version if earlier else None
    contract_before = _contract_of(last.contract_name, last.contract_version) if last else None
    changes = diff_snapshots(
        {"contract": contract_before, "entities": before},
        {
            "contract": _contract_of(version.contract_name, version.contract_version),
            "entities": after,
        },
    )
    return ApprovalChanges(
        since=last.number if last else None,
        added={name: len(part.get("attributes", {})) for name, part in sorted(added.items())},  # type: ignore[attr-defined]
        removed=sorted(set(covering) - set(mine)),
        changes=[c for c in changes if last or c.entity != "(contract)"],
    )


# --- changed since sign-off ----------------------------------------------------------------------
#
# Answered from hashes: each mapping row carries the hash of its part of the snapshot, each spec
# version the hashes of its frozen parts (SpecVersionEntity). An entity whose hash is unchanged has
# no changed attribute; field diffs are computed only for changed entities, and only when asked.


def _approvals(engagement: Engagement, gate: str | None = None):
    decisions = Decision.objects.filter(engagement=engagement, verdict=Verdict.APPROVE).filter(
        review__state=ReviewState.APPROVED
    )
    if gate:
        decisions = decisions.filter(gate=gate)
    return (
        decisions.select_related("version", "decided_by")
        .defer("version__snapshot")
        .order_by("-decided_at", "-id")
    )


def _version_hashes(version_ids: list[int], entities: list[str] | None) -> dict[int, dict]:
    """version id → {entity: hash} of those versions' frozen parts (all entities, or those)."""
    parts = SpecVersionEntity.objects.filter(version_id__in=version_ids)
    if entities is not None:
        parts = parts.filter(entity_name__in=entities)
    hashes: dict[int, dict[str, str]] = {pk: {} for pk in version_ids}
    for version_id, name, spec_hash in parts.values_list("version_id", "entity_name", "spec_hash"):
        hashes[version_id][name] = spec_hash
    return hashes


def _entity_rows(engagement: Engagement, entities) -> dict[str, tuple[int, str]]:
    """entity → (id, stored hash) of the working mapping's entities (all, or those named)."""
    rows = EntityMapping.objects.filter(engagement=engagement)
    if entities is not None:
        rows = rows.filter(entity_name__in=entities)
    return {
        name: (pk, h or "")
        for pk, name, h in rows.values_list("id", "entity_name", "spec_state__spec_hash")
    }


def _parts(pairs: dict[str, int], field: str) -> dict[str, object]:
    """entity → `field` of the frozen part of each (entity → version id) pair, in one query."""
    if not pairs:
        return {}
    by_version: dict[int, list[str]] = {}
    for name, version_id in pairs.items():
        by_version.setdefault(version_id, []).append(name)
    match = Q()
    for version_id, names in by_version.items():
        match |= Q(version_id=version_id, entity_name__in=names)
    return dict(SpecVersionEntity.objects.filter(match).values_list("entity_name", field))


def changed_since_signoff(
    *,
    engagement: Engagement,
    gate: str = Gate.MAPPING,
    current: dict | None = None,
    entities: list[str] | None = None,
    attributes: bool = True,
    changes: bool = True,
) -> dict:
    """Which approved parts of the spec changed since their sign-off, with the field diff.

    For every entity covered by an approval of `gate` (the newest approval covering it wins):

        {"changed": bool,                                    # anything changed anywhere
         "entities": {entity: {"version": int, "content_hash": str, "decision_id": int,
                               "approved_by": str, "approved_at": datetime,
                               "changed": bool, "changes": [FieldChange.as_dict(), …]}},
         "attributes": {(entity, attribute): {"version": int, "changed": bool,
                                              "changes": (FieldChange.as_dict(), …)}}}

    "changes" of an entity holds all its changes (its own fields and its attributes'); an
    attribute's holds its own; attribute states are read-only mappings, shared by the
    attributes of an unchanged entity. Entities never approved are absent.
    `entities` restricts everything to those entities (a page showing one entity reads only
    it); `attributes=False` leaves "attributes" empty and `changes=False` every "changes" list
    (the dashboard needs neither). A fixed number of queries whatever the size: the approvals,
    the approved and current entity hashes; for attributes the approved and the changed
    entities' current attribute hashes; for changes the changed entities' approved parts and
    their current snapshot. `current` is accepted for older callers and not needed.
    """
    result: dict = {"changed": False, "entities": {}, "attributes": {}}
    decisions = list(_approvals(engagement, gate))
    if not decisions:
        return result
    approved = _version_hashes(list({d.version_id for d in decisions}), entities)
    covering: dict[str, Decision] = {}
    for decision in decisions:  # newest first
        for name in approved[decision.version_id]:
            covering.setdefault(name, decision)
    if not covering:
        return result
    working = _entity_rows(engagement, entities)
    changed_names = {
        name
        for name, decision in covering.items()
        if working.get(name, (None, None))[1] != approved[decision.version_id][name]
    }
    result["changed"] = bool(changed_names)
    approvals = {decision.pk: _approval_fields(decision) for decision in decisions}
    for name, decision in covering.items():
        result["entities"][name] = {
            **approvals[decision.pk],
            "changed": name in changed_names,
            "changes": [],
        }
    pairs = {name: covering[name].version_id for name in sorted(changed_names)}
    per_attribute = _field_changes(engagement, pairs, result["entities"]) if changes else {}
    if attributes:
        _attribute_states(result, covering, changed_names, working, per_attribute)
    return result


def _approval_fields(decision: Decision) -> dict:
    """What every entity state covered by `decision` repeats: read once per approval, not per
    entity (the related objects' descriptors cost more than the dict)."""
    return {
        "version": decision.version.number,
        "content_hash": decision.version.content_hash,
        "decision_id": decision.pk,
        "approved_by": decision.decided_by.get_full_name() or decision.decided_by.username,
        "approved_at": decision.decided_at,
    }


def _field_changes(engagement: Engagement, pairs: dict[str, int], states: dict) -> dict:
    """Put the field diff of each changed entity (entity → version id) on its state; returns
    (entity, attribute) → that attribute's changes."""
    if not pairs:
        return {}
    before = {"entities": _parts(pairs, "part")}
    after = current_snapshot(engagement=engagement, entities=list(pairs))
    per_attribute: dict[tuple[str, str], list[dict]] = {}
    for change in diff_snapshots(before, {"entities": after["entities"]}):
        states[change.entity]["changes"].append(change.as_dict())
        if change.attribute:
            per_attribute.setdefault((change.entity, change.attribute), []).append(change.as_dict())
    return per_attribute


def _attribute_states(
    result: dict,
    covering: dict[str, Decision],
    changed_names: set[str],
    working: dict[str, tuple[int, str]],
    per_attribute: dict,
) -> None:
    """Every attribute of the approved entities; only the changed entities' current attribute
    hashes are read (an unchanged entity has no changed attribute)."""
    approved = _parts({name: d.version_id for name, d in covering.items()}, "attribute_hashes")
    changed_ids = {working[name][0]: name for name in changed_names if name in working}
    current: dict[str, dict[str, str]] = {name: {} for name in changed_names}
    if changed_ids:
        for entity_id, attribute, spec_hash in AttributeMapping.objects.filter(
            entity_mapping_id__in=list(changed_ids)
        ).values_list("entity_mapping_id", "attribute_name", "spec_hash"):
            current[changed_ids[entity_id]][attribute] = spec_hash
    states = result["attributes"]
    for name in covering:
        version = result["entities"][name]["version"]
        was: dict[str, str] = approved.get(name) or {}  # type: ignore[assignment]
        if name not in current:
            # Every attribute of an unchanged entity shares one state: at 100,000 attributes a
            # dict and a list each would leave the collector most of the work.
            unchanged = MappingProxyType({"version": version, "changed": False, "changes": ()})
            states.update(dict.fromkeys([(name, attribute) for attribute in was], unchanged))
            continue
        now = current[name]
        for attribute in set(was) | set(now):
            states[(name, attribute)] = MappingProxyType(
                {
                    "version": version,
                    "changed": was.get(attribute) != now.get(attribute),
                    "changes": tuple(per_attribute.get((name, attribute), ())),
                }
            )


def changed_versions(*, engagement: Engagement, versions: list[SpecVersion]) -> set[int]:
    """The ids of the `versions` whose frozen part of the spec the working mapping no longer
    matches: an entity's hash, an entity added to a whole-spec version, or the published
    contract. The one answer to "changed since?" that the review page, the sign-off table and
    the spec stamp (the Cover) all give. Three queries whatever the size."""
    if not versions:
        return set()
    frozen = _version_hashes(list({v.pk for v in versions}), None)
    working = {name: h for name, (_pk, h) in _entity_rows(engagement, None).items()}
    layer = published_layer(engagement=engagement)
    contract = (layer.name, layer.version) if layer else ("", "")
    changed = set()
    for version in versions:
        hashes = frozen[version.pk]
        added = not version.entities and bool(set(working) - set(hashes))
        edited = any(working.get(name) != h for name, h in hashes.items())
        moved = (version.contract_name, version.contract_version) != contract
        if added or edited or moved:
            changed.add(version.pk)
    return changed


def changed_decisions(*, engagement: Engagement, decisions: list[Decision]) -> set[int]:
    """The ids of the approvals among `decisions` whose approved version changed since
    (changed_versions)."""
    approvals = [d for d in decisions if d.verdict == Verdict.APPROVE]
    changed = changed_versions(engagement=engagement, versions=[d.version for d in approvals])
    return {d.pk for d in approvals if d.version_id in changed}


def decision_changed(decision: Decision, current: dict | None = None) -> bool:
    """Whether this approval's approved part of the spec changed since (`current` is accepted
    for older callers and not needed)."""
    return decision.pk in changed_decisions(engagement=decision.engagement, decisions=[decision])


def _approved_later(decision: Decision, later: list[Decision]) -> bool:
    entities = set(decision.version.entities)
    return any(
        other.verdict == Verdict.APPROVE
        and other.gate == decision.gate
        and (not other.version.entities or (entities and entities <= set(other.version.entities)))
        for other in later
    )


def signoff_table(*, engagement: Engagement, current: dict | None = None) -> list[dict]:
    """Every decision of every gate, oldest first, for the spec's Cover sheet and the pages.

    Each row: {"gate", "gate_label", "version", "content_hash", "scope", "approver",
    "approver_username", "role", "decision", "verdict", "comment", "date", "changed_since",
    "superseded"}.
    `changed_since` is True for an approval whose approved part of the spec has changed since;
    `superseded` is True for an approval a later approval of the same gate covers.
    `current` is accepted for older callers and not needed.
    """
    decisions = list(
        Decision.objects.filter(engagement=engagement)
        .select_related("version", "decided_by")
        .defer("version__snapshot")
        .order_by("decided_at", "id")
    )
    changed = changed_decisions(engagement=engagement, decisions=decisions)
    rows = []
    for index, decision in enumerate(decisions):
        approved = decision.verdict == Verdict.APPROVE
        rows.append(
            {
                "gate": decision.gate,
                "gate_label": Gate(decision.gate).label,
                "version": decision.version.number,
                "content_hash": decision.content_hash,
                "scope": decision.version.scope_label,
                "approver": decision.decided_by.get_full_name() or decision.decided_by.username,
                "approver_username": decision.decided_by.username,
                "role": Role(decision.role).label if decision.role in Role.values else "",
                "decision": Verdict(decision.verdict).label,
                "verdict": decision.verdict,
                "comment": decision.comment,
                "date": decision.decided_at,
                "changed_since": decision.pk in changed,
                "superseded": approved and _approved_later(decision, decisions[index + 1 :]),
            }
        )
    return rows


# --- inbox: the core's (workbench.selectors); these names stay importable from here ------------

inbox = workbench_selectors.inbox
unread_count = workbench_selectors.unread_count


# --- which version is this? ----------------------------------------------------------------------


@dataclass(frozen=True)
class SpecStamp:
    """What every deliverable stamps: the working mapping's content hash and, when the mapping is
    exactly the latest spec version, that version's number and whether a sign-off approved it."""

    content_hash: str
    version: int | None  # None: a draft (no version yet, or not exactly `latest_version`)
    approved: bool
    latest_version: int | None
    # Whether the latest version's frozen part changed since (changed_versions), and what it froze
    latest_changed: bool = True
    latest_scope: str = ""

    @property
    def label(self) -> str:
        if self.version is not None:
            return f"Version {self.version}"
        if self.latest_version is None:
            return "working copy (no version submitted)"
        if self.latest_changed:
            return f"working copy (changed since version {self.latest_version})"
        return f"working copy ({self.latest_scope} unchanged since version {self.latest_version})"


def spec_stamp(*, engagement: Engagement, current: dict | None = None) -> SpecStamp:
    """The stamp of the working mapping (mappings.snapshot hash; pass `current` to save reading
    it again). Its hash equals a version's exactly when nothing changed since that version; a
    version of some entities only is never the whole mapping, and whether it changed since is
    changed_versions' answer, as on the review page."""
    # Streamed (mappings.snapshot.snapshot_hash): the hash, without holding the snapshot.
    working_hash = content_hash(current) if current else spec.snapshot_hash(engagement=engagement)
    latest = (
        SpecVersion.objects.filter(engagement=engagement)
        .order_by("-number")
        .only("id", "number", "content_hash", "entities", "contract_name", "contract_version")
        .first()
    )
    if latest is None:
        return SpecStamp(working_hash, version=None, approved=False, latest_version=None)
    if latest.content_hash != working_hash:
        return SpecStamp(
            working_hash,
            version=None,
            approved=False,
            latest_version=latest.number,
            latest_changed=latest.pk in changed_versions(engagement=engagement, versions=[latest]),
            latest_scope=latest.scope_label,
        )
    approved = Decision.objects.filter(
        version=latest, verdict=Verdict.APPROVE, review__state=ReviewState.APPROVED
    ).exists()
    return SpecStamp(
        working_hash, latest.number, approved, latest_version=latest.number, latest_changed=False
    )
