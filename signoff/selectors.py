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

from mappings import snapshot as spec
from mappings.snapshot import FieldChange, diff_snapshots, restrict_snapshot
from workbench import selectors as workbench_selectors
from workbench.choices import Role
from workbench.models import Engagement

from .choices import OPEN_REVIEW_STATES, CutoverStep, Gate, ReviewState, UatState, Verdict
from .models import CutoverItem, Decision, ReviewRequest, SpecVersion, UatItem

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
    if current is None:
        current = current_snapshot(engagement=version.engagement, entities=version.entities or None)
    return diff_snapshots(version.snapshot, restrict_snapshot(current, version.entities or None))


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


# --- changed since sign-off ----------------------------------------------------------------------


def _approvals(engagement: Engagement, gate: str | None = None):
    decisions = Decision.objects.filter(engagement=engagement, verdict=Verdict.APPROVE).filter(
        review__state=ReviewState.APPROVED
    )
    if gate:
        decisions = decisions.filter(gate=gate)
    return decisions.select_related("version", "decided_by").order_by("-decided_at", "-id")


def changed_since_signoff(
    *, engagement: Engagement, gate: str = Gate.MAPPING, current: dict | None = None
) -> dict:
    """Which approved parts of the spec changed since their sign-off, with the field diff.

    For every entity covered by an approval of `gate` (the newest approval covering it wins):

        {"changed": bool,                                    # anything changed anywhere
         "entities": {entity: {"version": int, "content_hash": str, "decision_id": int,
                               "approved_by": str, "approved_at": datetime,
                               "changed": bool, "changes": [FieldChange.as_dict(), …]}},
         "attributes": {(entity, attribute): {"version": int, "changed": bool,
                                              "changes": [FieldChange.as_dict(), …]}}}

    "changes" of an entity holds all its changes (its own fields and its attributes'); an
    attribute's holds its own. Entities never approved are absent. A fixed number of queries
    (the current snapshot, the approvals with their versions). Pass `current` (a
    current_snapshot of the engagement) to save reading it again.
    """
    if current is None:
        current = current_snapshot(engagement=engagement)
    result: dict = {"changed": False, "entities": {}, "attributes": {}}
    covered: set[str] = set()
    for decision in _approvals(engagement, gate):
        version = decision.version
        names = set(version.entities or version.snapshot.get("entities", {}))
        names -= covered
        if not names:
            continue
        covered |= names
        changes = diff_snapshots(
            restrict_snapshot(version.snapshot, sorted(names)),
            restrict_snapshot(current, sorted(names)),
        )
        per_entity: dict[str, list[dict]] = {name: [] for name in names}
        per_attribute: dict[tuple[str, str], list[dict]] = {}
        for change in changes:
            if change.entity == "(contract)":
                continue
            per_entity.setdefault(change.entity, []).append(change.as_dict())
            if change.attribute:
                per_attribute.setdefault((change.entity, change.attribute), []).append(
                    change.as_dict()
                )
        approved_by = decision.decided_by.get_full_name() or decision.decided_by.username
        for name in names:
            entity_changes = per_entity.get(name, [])
            result["entities"][name] = {
                "version": version.number,
                "content_hash": version.content_hash,
                "decision_id": decision.pk,
                "approved_by": approved_by,
                "approved_at": decision.decided_at,
                "changed": bool(entity_changes),
                "changes": entity_changes,
            }
            result["changed"] = result["changed"] or bool(entity_changes)
            attributes = set(
                version.snapshot.get("entities", {}).get(name, {}).get("attributes", {})
            )
            attributes |= set(current["entities"].get(name, {}).get("attributes", {}))
            for attribute in attributes:
                attribute_changes = per_attribute.get((name, attribute), [])
                result["attributes"][(name, attribute)] = {
                    "version": version.number,
                    "changed": bool(attribute_changes),
                    "changes": attribute_changes,
                }
    return result


def decision_changed(decision: Decision, current: dict) -> bool:
    version = decision.version
    return bool(
        diff_snapshots(version.snapshot, restrict_snapshot(current, version.entities or None))
    )


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
    Pass `current` (a current_snapshot of the engagement) to save reading it again.
    """
    if current is None:
        current = current_snapshot(engagement=engagement)
    decisions = list(
        Decision.objects.filter(engagement=engagement)
        .select_related("version", "decided_by")
        .order_by("decided_at", "id")
    )
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
                "changed_since": approved and decision_changed(decision, current),
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
    version: int | None  # None: a draft (no version yet, or changed since `latest_version`)
    approved: bool
    latest_version: int | None

    @property
    def label(self) -> str:
        if self.version is not None:
            return f"Version {self.version}"
        if self.latest_version is None:
            return "working copy (no version submitted)"
        return f"working copy (changed since version {self.latest_version})"


def spec_stamp(*, engagement: Engagement, current: dict | None = None) -> SpecStamp:
    """The stamp of the working mapping (mappings.snapshot hash; pass `current` to save reading
    it again). Its hash equals a version's exactly when nothing changed since that version."""
    working_hash = content_hash(current or current_snapshot(engagement=engagement))
    latest = (
        SpecVersion.objects.filter(engagement=engagement)
        .order_by("-number")
        .only("id", "number", "content_hash")
        .first()
    )
    if latest is None or latest.content_hash != working_hash:
        number = latest.number if latest else None
        return SpecStamp(working_hash, version=None, approved=False, latest_version=number)
    approved = Decision.objects.filter(
        version=latest, verdict=Verdict.APPROVE, review__state=ReviewState.APPROVED
    ).exists()
    return SpecStamp(working_hash, latest.number, approved, latest_version=latest.number)
