"""Reads of signoff: the current spec snapshot and its hash, diffs, "changed since sign-off", the
sign-off table, review and audit lists, the inbox.

Public for other apps (keep the signatures stable):
- `current_snapshot(engagement=, entities=None) -> dict` and `content_hash(snapshot) -> str`
- `diff_snapshots(before, after) -> list[FieldChange]`
- `changed_since_signoff(engagement=, gate="mapping") -> dict`
- `signoff_table(engagement=) -> list[dict]`
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import sqlglot
from django.db.models import Q
from sqlglot import exp

from contracts.selectors import published_layer
from mappings.expressions import split_joins, table_lookup_name
from mappings.models import AttributeMapping, EntityMapping
from workbench.choices import Role
from workbench.models import Engagement

from .choices import OPEN_REVIEW_STATES, CutoverStep, Gate, ReviewState, UatState, Verdict
from .models import CutoverItem, Decision, Notification, ReviewRequest, SpecVersion, UatItem

SNAPSHOT_FORMAT = 1
# The fields of mappings/models/mapping.py that define the specification.
ENTITY_SPEC_FIELDS = [
    "driving_table",
    "driving_alias",
    "joins",
    "filter",
    "frequency",
    "notes",
    "status",
]
ATTRIBUTE_SPEC_FIELDS = [
    "source_columns",
    "transformation",
    "default_value",
    "edge_cases",
    "notes",
    "status",
    "lineage",
    "lineage_tables",
]
ENTITY_LEVEL = ""  # the `attribute` of a change to the entity itself


# --- the snapshot ------------------------------------------------------------------------------


def _alias_tables(driving_table: str, alias: str, joins: str) -> dict[str, str]:
    """alias → table of an entity's FROM clause (best effort; the mapping checks report bad SQL)."""
    aliases = {alias.lower(): driving_table} if alias and driving_table else {}
    for piece in split_joins(joins or ""):
        try:
            join = sqlglot.parse_one(piece, into=exp.Join)
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
            continue
        target = join.this
        if target is not None and target.alias:
            name = table_lookup_name(target) if isinstance(target, exp.Table) else "(lookup)"
            aliases[target.alias.lower()] = name
    return aliases


def current_snapshot(*, engagement: Engagement, entities: list[str] | None = None) -> dict:
    """The engagement's working mapping as a spec snapshot (all entities, or those named).

    {"format": 1, "contract": {"name", "version"} | None,
     "entities": {entity: {<ENTITY_SPEC_FIELDS>, "attributes": {attribute: {<ATTRIBUTE_SPEC_FIELDS>}}}},
     "catalog_columns": ["table.column", …]}  — the catalog columns the lineage uses.
    Three queries whatever the size.
    """
    layer = published_layer(engagement=engagement)
    entity_rows = EntityMapping.objects.filter(engagement=engagement)
    attribute_rows = AttributeMapping.objects.filter(engagement=engagement)
    if entities is not None:
        entity_rows = entity_rows.filter(entity_name__in=entities)
        attribute_rows = attribute_rows.filter(entity_mapping__entity_name__in=entities)
    snapshot_entities: dict[str, dict] = {}
    by_id: dict[int, dict] = {}
    aliases: dict[int, dict[str, str]] = {}
    for row in entity_rows.values("id", "entity_name", *ENTITY_SPEC_FIELDS):
        data = {field: row[field] for field in ENTITY_SPEC_FIELDS}
        data["attributes"] = {}
        snapshot_entities[row["entity_name"]] = data
        by_id[row["id"]] = data
        aliases[row["id"]] = _alias_tables(row["driving_table"], row["driving_alias"], row["joins"])
    columns: set[str] = set()
    for row in attribute_rows.order_by("entity_mapping_id", "id").values(
        "entity_mapping_id", "attribute_name", *ATTRIBUTE_SPEC_FIELDS
    ):
        by_id[row["entity_mapping_id"]]["attributes"][row["attribute_name"]] = {
            field: row[field] for field in ATTRIBUTE_SPEC_FIELDS
        }
        alias_map = aliases[row["entity_mapping_id"]]
        for item in row["lineage"] or []:
            alias, _, column = str(item).partition(".")
            table = alias_map.get(alias.lower())
            if table and column:
                columns.add(f"{table}.{column}")
    return {
        "format": SNAPSHOT_FORMAT,
        "contract": {"name": layer.name, "version": layer.version} if layer else None,
        "entities": snapshot_entities,
        "catalog_columns": sorted(columns),
    }


def canonical_json(snapshot: dict) -> str:
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(snapshot: dict) -> str:
    """SHA-256 (hex) of the snapshot's canonical JSON: sorted keys, no spaces, UTF-8."""
    return hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest()


def restrict_snapshot(snapshot: dict, entities: list[str] | None) -> dict:
    """The part of a snapshot about `entities` (all when None or empty)."""
    if not entities:
        return snapshot
    return {
        **snapshot,
        "entities": {k: v for k, v in snapshot["entities"].items() if k in entities},
    }


# --- diffs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    entity: str
    attribute: str  # "" for the entity itself
    field: str
    before: Any
    after: Any

    def as_dict(self) -> dict:
        return asdict(self)


def diff_snapshots(before: dict, after: dict) -> list[FieldChange]:
    """Field-by-field changes from `before` to `after` (entity, attribute, field, before, after).

    An entity or attribute that appears or disappears is one change of the field "mapping".
    """
    changes: list[FieldChange] = []
    if (before.get("contract") or None) != (after.get("contract") or None):
        changes.append(
            FieldChange("(contract)", "", "version", _contract(before), _contract(after))
        )
    old, new = before.get("entities", {}), after.get("entities", {})
    for name in sorted(set(old) | set(new)):
        if name not in new:
            changes.append(FieldChange(name, ENTITY_LEVEL, "mapping", "present", None))
            continue
        if name not in old:
            changes.append(FieldChange(name, ENTITY_LEVEL, "mapping", None, "present"))
            continue
        a, b = old[name], new[name]
        for field in ENTITY_SPEC_FIELDS:
            if a.get(field) != b.get(field):
                changes.append(FieldChange(name, ENTITY_LEVEL, field, a.get(field), b.get(field)))
        old_attrs, new_attrs = a.get("attributes", {}), b.get("attributes", {})
        for attribute in sorted(set(old_attrs) | set(new_attrs)):
            if attribute not in new_attrs:
                changes.append(FieldChange(name, attribute, "mapping", "present", None))
            elif attribute not in old_attrs:
                changes.append(FieldChange(name, attribute, "mapping", None, "present"))
            else:
                x, y = old_attrs[attribute], new_attrs[attribute]
                for field in ATTRIBUTE_SPEC_FIELDS:
                    if x.get(field) != y.get(field):
                        changes.append(
                            FieldChange(name, attribute, field, x.get(field), y.get(field))
                        )
    return changes


def _contract(snapshot: dict) -> str | None:
    contract = snapshot.get("contract")
    return f"{contract['name']} {contract['version']}" if contract else None


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
    decisions = (
        Decision.objects.filter(engagement=engagement)
        .select_related("version", "decided_by")
        .order_by("decided_at", "id")
    )
    decisions = list(decisions)
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


# --- inbox ---------------------------------------------------------------------------------------


def inbox(*, user):
    """The user's notifications of the engagements they can still see, newest first."""
    return (
        Notification.objects.filter(recipient=user)
        .filter(Q(engagement__memberships__user=user) | Q(recipient__is_staff=True))
        .select_related("engagement", "actor")
        .distinct()
    )


def unread_count(*, user) -> int:
    if not user or not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
