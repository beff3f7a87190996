"""Writes of the mapping: entity and attribute rules, feasibility, SME review, comments, revert.

Every save validates the SQL against the catalog (mappings.compiled), stores the derived
lineage and warnings, bumps `row_version` and records history with the acting user. A save based
on a stale `row_version` raises MappingConflict carrying the current row.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from contracts.models import InterfaceAttribute, InterfaceEntity
from contracts.selectors import published_layer
from workbench import policy
from workbench.choices import NotificationKind
from workbench.history import apply_changes, save_with_history
from workbench.models import Engagement, Membership, Notification
from workbench.policy import Action
from workbench.services import notify

from ..choices import (
    FEASIBILITY_NEEDS_COMMENT,
    FREQUENCY_NAMES,
    CommentKind,
    EntityStatus,
    Feasibility,
    LoadStrategy,
    MappingStatus,
    SmeReview,
)
from ..compiled import (
    CompiledEntity,
    compile_entity_mapping,
    compile_from_clause,
    compile_rule_context,
)
from ..events import spec_changed
from ..expressions import ERROR, Checked, Problem, Target
from ..models import AttributeMapping, EntityMapping, EntitySpecHash, MappingComment
from ..selectors.mapping import (
    contract_attributes_without_mapping,
    contract_entity_shape,
)
from ..snapshot import (
    ATTRIBUTE_AUTHORED_FIELDS,
    ENTITY_SPEC_FIELDS,
    entity_hashes,
    mapping_attribute_hash,
)
from ..status import entity_status_apply, entity_status_refresh
from ..strategies import resolve_strategy, strategy_problem


class MappingConflict(Exception):
    """Someone saved this row since the version the edit was based on."""

    def __init__(self, current):
        self.current = current
        super().__init__(
            f"{current} was changed by {current.updated_by or 'someone'} since you opened it "
            f"(now version {current.row_version}). Review the current values and try again."
        )


# What the update services accept: exactly what a person writes of the spec content.
ENTITY_FIELDS = set(ENTITY_SPEC_FIELDS)
ATTRIBUTE_FIELDS = set(ATTRIBUTE_AUTHORED_FIELDS)
RULE_FIELDS = {"source_columns", "transformation", "default_value"}
FROM_FIELDS = {"driving_table", "driving_alias", "joins", "filter"}  # what the rules depend on
STRATEGY_FIELDS = {"load_strategy", "watermark", "delete_condition"}
_FREQUENCIES = set(FREQUENCY_NAMES)
_CRON_FIELD = r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*"
_CRON = re.compile(rf"^{_CRON_FIELD}(\s+{_CRON_FIELD}){{4}}$")


# --- preparing the mapping from the published contract -----------------------------------------


@transaction.atomic
def mapping_prepare(*, engagement: Engagement, acting_user: User) -> dict[str, int]:
    """Create the missing entity and attribute mappings for the published contract.

    Existing rows (and rows for names the contract dropped) are kept; the GAP reports the latter.
    """
    policy.check(acting_user, engagement, Action.EDIT_MAPPING)
    layer = published_layer(engagement=engagement)
    if layer is None:
        raise ValidationError("Publish an Interface Layer contract before mapping.")
    # Only the missing rows are read (a re-import prepares a mapping of 100,000 rows that are
    # all there): the contract's entities with attributes, and its attributes without a mapping.
    contract_entities = (
        InterfaceEntity.objects.filter(layer=layer)
        .filter(Exists(InterfaceAttribute.objects.filter(entity=OuterRef("pk"))))
        .order_by("position")
        .values_list("name", flat=True)
    )
    entities = {e.entity_name: e for e in EntityMapping.objects.filter(engagement=engagement)}
    new_entities = [
        EntityMapping(engagement=engagement, entity_name=name, updated_by=acting_user)
        for name in contract_entities
        if name not in entities
    ]
    if new_entities:
        bulk_create_with_history(new_entities, EntityMapping, default_user=acting_user)
        entities = {e.entity_name: e for e in EntityMapping.objects.filter(engagement=engagement)}
    missing = contract_attributes_without_mapping(engagement=engagement, layer=layer)
    new_attributes = [
        AttributeMapping(
            engagement=engagement,
            entity_mapping=entities[entity],
            attribute_name=attribute,
            updated_by=acting_user,
        )
        for entity, attribute in missing
    ]
    for mapping in new_attributes:
        mapping.spec_hash = mapping_attribute_hash(mapping)
    bulk_create_with_history(
        new_attributes, AttributeMapping, batch_size=1000, default_user=acting_user
    )
    touched = {e.entity_name for e in new_entities}
    touched |= {a.entity_mapping.entity_name for a in new_attributes}
    # Only a Mapped entity changes when unmapped attributes join it (it is in progress again).
    for name in sorted({a.entity_mapping.entity_name for a in new_attributes}):
        if entities[name].status == EntityStatus.MAPPED:
            entity_status_refresh(entity_mapping=entities[name], acting_user=acting_user)
    if touched:
        _spec_written(engagement, [entities[name] for name in touched])
    return {"entities": len(new_entities), "attributes": len(new_attributes)}


def _spec_written(engagement: Engagement, entity_mappings: list[EntityMapping]) -> None:
    """After a write to these entities' spec content: store their entity hashes (their rows'
    own hashes were stamped before saving) and report the change (mappings.events)."""
    _store_entity_hashes(entity_mappings)
    spec_changed(engagement=engagement, entities={e.entity_name for e in entity_mappings})


def _store_entity_hashes(entity_mappings: list[EntityMapping]) -> None:
    """Store the entity hash the rows give now: after any save of an entity or of one of its
    attributes. The hash lives beside the entity (EntitySpecHash), so storing it writes no
    audit row."""
    ids = [e.pk for e in entity_mappings]
    stored = dict(
        EntitySpecHash.objects.filter(entity_mapping_id__in=ids).values_list(
            "entity_mapping_id", "spec_hash"
        )
    )
    for entity_id, spec_hash in entity_hashes(entity_ids=ids).items():
        if stored.get(entity_id) != spec_hash:
            EntitySpecHash.objects.update_or_create(
                entity_mapping_id=entity_id, defaults={"spec_hash": spec_hash}
            )


# --- entity mappings ---------------------------------------------------------------------------


def _check_version(current, row_version: int | None) -> None:
    if row_version is not None and int(row_version) != current.row_version:
        raise MappingConflict(current)


def _refuse(problems: list[Problem], field: str) -> None:
    errors = [str(p) for p in problems if p.level == ERROR]
    if errors:
        raise ValidationError({field: errors})


def validate_frequency(value: str) -> None:
    value = (value or "").strip()
    if value.lower() not in _FREQUENCIES and not _CRON.match(value):
        raise ValidationError(
            {
                "frequency": "Use hourly, daily, weekly, monthly, on demand or a cron schedule "
                "such as '0 2 * * *'."
            }
        )


def validate_strategy(entity_mapping: EntityMapping) -> None:
    """The load strategy must be one we render, and the contract must allow it (a merge or an
    append needs a primary key, an append a watermark, a full refresh no children)."""
    strategy = entity_mapping.load_strategy
    if strategy and strategy not in LoadStrategy.values:
        by_label = {c.label.lower(): c.value for c in LoadStrategy}
        strategy = by_label.get(strategy.lower(), "")
        if not strategy:
            raise ValidationError(
                {
                    "load_strategy": "Choose one of "
                    + ", ".join(c.label for c in LoadStrategy)
                    + ", or leave it blank to merge on the key (full refresh without one)."
                }
            )
        entity_mapping.load_strategy = strategy
    shape = contract_entity_shape(
        engagement=entity_mapping.engagement, entity_name=entity_mapping.entity_name
    )
    if not shape.attributes:
        return  # not in the published contract: the GAP says so
    if entity_mapping.watermark and entity_mapping.watermark not in shape.attributes:
        raise ValidationError(
            {
                "watermark": f"{entity_mapping.watermark} is not an attribute of "
                f"{entity_mapping.entity_name}."
            }
        )
    chosen = resolve_strategy(strategy, primary_key=shape.primary_key)
    problem = strategy_problem(
        chosen,
        entity=entity_mapping.entity_name,
        primary_key=shape.primary_key,
        watermark=entity_mapping.watermark,
        attributes=shape.attributes,
        referenced_by=shape.referenced_by,
    )
    if problem:
        field = "watermark" if "watermark" in problem else "load_strategy"
        raise ValidationError({field: problem})


@transaction.atomic
def entity_mapping_update(
    *, entity_mapping: EntityMapping, data: dict, acting_user: User, row_version: int | None = None
) -> EntityMapping:
    """Save the driving table, joins, filter, frequency, notes or status of an entity.

    The FROM clause and the filter must validate; the entity's attribute rules are checked again
    against the new aliases, so a renamed alias shows up on every row it breaks.
    """
    policy.check(acting_user, entity_mapping.engagement, Action.EDIT_MAPPING)
    current = EntityMapping.objects.select_for_update().get(pk=entity_mapping.pk)
    _check_version(current, row_version)
    changed = set(apply_changes(current, _strip(data), allowed=ENTITY_FIELDS))
    if not changed:
        return current
    if "frequency" in changed:
        validate_frequency(current.frequency)
    if changed & STRATEGY_FIELDS:
        validate_strategy(current)
    reaches_rules = bool(changed & FROM_FIELDS)
    compiled = (
        compile_entity_mapping(entity_mapping=current)
        if reaches_rules
        else compile_from_clause(entity_mapping=current)
    )
    clause = compiled.from_clause
    if current.driving_table or current.joins:
        _refuse(clause.driving_problems, "driving_table")
        _refuse(clause.join_problems, "joins")
    problems = list(clause.problems) if current.driving_table else []
    if compiled.filter is not None:
        _refuse(compiled.filter.problems, "filter")
        problems += compiled.filter.problems
    if compiled.delete_condition is not None:
        _refuse(compiled.delete_condition.problems, "delete_condition")
        problems += compiled.delete_condition.problems
    entity_status_apply(current)  # a hand-set status other than Blocked follows the attributes
    current.problems = [p.as_dict() for p in problems]
    current.row_version += 1
    current.updated_by = acting_user
    save_with_history(current, acting_user=acting_user, relations_as_loaded=True)
    if reaches_rules:
        _recheck_attributes(compiled, acting_user)
    _spec_written(entity_mapping.engagement, [current])
    return current


def _strip(data: dict) -> dict:
    return {k: v.strip() if isinstance(v, str) and k != "notes" else v for k, v in data.items()}


def _recheck_attributes(compiled: CompiledEntity, acting_user: User) -> None:
    """Store the re-derived lineage and problems of every rule of the entity after its aliases
    changed (the compiled entity checked them against the new FROM clause and filter)."""
    ruled = [
        (a.mapping, a.checked)
        for a in compiled.attributes
        if a.mapping is not None and a.checked is not None
    ]
    changed = []
    for mapping, checked in sorted(ruled, key=lambda pair: pair[0].pk):  # the rows' own order
        _store_analysis(mapping, checked)
        mapping.spec_hash = mapping_attribute_hash(mapping)  # the lineage is spec content
        mapping.row_version += 1
        mapping.updated_by = acting_user
        changed.append(mapping)
    bulk_update_with_history(
        changed,
        AttributeMapping,
        [
            "lineage",
            "lineage_tables",
            "inferred_type",
            "problems",
            "spec_hash",
            "row_version",
            "updated_by",
        ],
        batch_size=500,
        default_user=acting_user,
    )


# --- attribute mappings ------------------------------------------------------------------------


def _store_analysis(mapping: AttributeMapping, checked: Checked | None) -> None:
    if checked is None:
        mapping.lineage, mapping.lineage_tables, mapping.inferred_type, mapping.problems = (
            [],
            [],
            "",
            [],
        )
        return
    mapping.lineage = checked.lineage_names()
    mapping.lineage_tables = list(dict.fromkeys(table for _a, table, _c in checked.lineage))
    mapping.inferred_type = checked.inferred_type
    mapping.problems = [p.as_dict() for p in checked.problems]


def _derived_status(mapping: AttributeMapping) -> str:
    if mapping.rule:
        return MappingStatus.MAPPED
    if mapping.default_value:
        return MappingStatus.DEFAULT_ONLY
    return MappingStatus.UNMAPPED


def _check_status(mapping: AttributeMapping, target: Target) -> None:
    status = mapping.status
    if status == MappingStatus.MAPPED and not mapping.rule:
        raise ValidationError({"status": "Mapped needs a source column or a transformation."})
    if status == MappingStatus.DEFAULT_ONLY and (mapping.rule or not mapping.default_value):
        raise ValidationError({"status": "Default Only needs a default value and no source."})
    if status == MappingStatus.NOT_APPLICABLE and target.required:
        raise ValidationError(
            {"status": "A mandatory attribute cannot be Not Applicable: map it or give a default."}
        )
    if status == MappingStatus.UNMAPPED and (mapping.rule or mapping.default_value):
        raise ValidationError({"status": "Unmapped cannot have a rule or a default."})


@transaction.atomic
def attribute_mapping_update(
    *,
    attribute_mapping: AttributeMapping,
    data: dict,
    acting_user: User,
    row_version: int | None = None,
    rule_context: CompiledEntity | None = None,
) -> AttributeMapping:
    """Save an attribute's rule, default, edge cases, notes or status.

    The rule is validated against the catalog; errors refuse the save (nothing is written),
    warnings are stored on the row. Without an explicit status, a changed rule sets it.
    `rule_context` is the entity's `compile_rule_context` when the caller compiled it already
    (an import compiles the entities of all its rows at once).
    """
    policy.check(acting_user, attribute_mapping.engagement, Action.EDIT_MAPPING)
    current = (
        AttributeMapping.objects.select_for_update(of=("self",))
        .select_related("entity_mapping__engagement", "updated_by")
        .get(pk=attribute_mapping.pk)
    )
    _check_version(current, row_version)
    data = _strip(data)
    changed = set(apply_changes(current, data, allowed=ATTRIBUTE_FIELDS))
    if not changed:
        return current
    if current.transformation:
        current.source_columns = ""  # lineage is derived from the transformation
    compiled = rule_context
    if compiled is None or compiled.entity_mapping.pk != current.entity_mapping_id:
        compiled = compile_rule_context(attribute_mapping=current)
    checked, errors = compiled.compile_rule(
        attribute_name=current.attribute_name,
        source_columns=current.source_columns,
        transformation=current.transformation,
        default_value=current.default_value,
    )
    if errors:
        raise ValidationError(errors)
    _store_analysis(current, checked)
    if "status" not in data and changed & RULE_FIELDS:
        current.status = _derived_status(current)
    _check_status(current, compiled.target(current.attribute_name))
    current.spec_hash = mapping_attribute_hash(current)
    current.row_version += 1
    current.updated_by = acting_user
    save_with_history(current, acting_user=acting_user, relations_as_loaded=True)
    # The entity's status follows its attributes before its hash is stored (status is spec).
    entity_status_refresh(entity_mapping=current.entity_mapping, acting_user=acting_user)
    _spec_written(attribute_mapping.engagement, [current.entity_mapping])
    return current


@transaction.atomic
def attribute_mapping_revert(
    *,
    attribute_mapping: AttributeMapping,
    history_id: int,
    acting_user: User,
    row_version: int | None = None,
) -> AttributeMapping:
    """Put back the rule, texts and status a row had at one point of its history (validated again)."""
    record = attribute_mapping.history.filter(history_id=history_id).first()
    if record is None:
        raise ValidationError({"history_id": "That version is not in this row's history."})
    data = {name: getattr(record, name) for name in ATTRIBUTE_FIELDS}
    return attribute_mapping_update(
        attribute_mapping=attribute_mapping,
        data=data,
        acting_user=acting_user,
        row_version=row_version,
    )


# --- feasibility, SME review, comments ----------------------------------------------------------


@transaction.atomic
def feasibility_set(
    *, mapping: EntityMapping | AttributeMapping, verdict: str, comment: str, acting_user: User
) -> EntityMapping | AttributeMapping:
    """The ETL Developer's verdict on an entity or an attribute mapping."""
    policy.check(acting_user, mapping.engagement, Action.GIVE_FEASIBILITY)
    if verdict not in Feasibility.values:
        raise ValidationError({"verdict": f"Unknown verdict '{verdict}'."})
    comment = (comment or "").strip()
    if verdict in FEASIBILITY_NEEDS_COMMENT and not comment:
        raise ValidationError(
            {"comment": f"Say why: “{Feasibility(verdict).label}” needs a comment."}
        )
    mapping.feasibility, mapping.feasibility_comment = verdict, comment
    mapping.updated_by = acting_user
    _save_keeping_hashes(mapping, acting_user)
    if comment:
        _comment(
            mapping,
            CommentKind.FEASIBILITY,
            f"{Feasibility(verdict).label}: {comment}",
            acting_user,
        )
    return mapping


@transaction.atomic
def sme_review_set(
    *, attribute_mapping: AttributeMapping, state: str, comment: str = "", acting_user: User
) -> AttributeMapping:
    """The SME agrees with a rule, or raises a query about it (which needs the question)."""
    policy.check(acting_user, attribute_mapping.engagement, Action.REVIEW_MAPPING)
    if state not in SmeReview.values:
        raise ValidationError({"state": f"Unknown review state '{state}'."})
    comment = (comment or "").strip()
    if state == SmeReview.QUERY_RAISED and not comment:
        raise ValidationError({"comment": "Write the query you are raising."})
    attribute_mapping.sme_review = state
    attribute_mapping.updated_by = acting_user
    _save_keeping_hashes(attribute_mapping, acting_user)
    if comment:
        kind = CommentKind.QUESTION if state == SmeReview.QUERY_RAISED else CommentKind.REVIEW
        _comment(attribute_mapping, kind, comment, acting_user)
    return attribute_mapping


def _save_keeping_hashes(mapping: EntityMapping | AttributeMapping, acting_user: User) -> None:
    """Save a change that is not spec content: the full save writes the instance's spec fields
    back as they were read, so the hashes are stored again for what was saved."""
    if isinstance(mapping, AttributeMapping):
        mapping.spec_hash = mapping_attribute_hash(mapping)
    save_with_history(mapping, acting_user=acting_user)
    entity = mapping if isinstance(mapping, EntityMapping) else mapping.entity_mapping
    _store_entity_hashes([entity])


_MENTION = re.compile(r"(?<![\w.])@([\w.+-]+)")


def _comment(mapping, kind: str, text: str, acting_user: User, parent=None) -> MappingComment:
    entity_mapping = mapping if isinstance(mapping, EntityMapping) else mapping.entity_mapping
    attribute_mapping = mapping if isinstance(mapping, AttributeMapping) else None
    members = set(entity_mapping.engagement.memberships.values_list("user__username", flat=True))
    mentions = [name for name in dict.fromkeys(_MENTION.findall(text)) if name in members]
    comment = MappingComment(
        engagement=entity_mapping.engagement,
        entity_mapping=entity_mapping,
        attribute_mapping=attribute_mapping,
        parent=parent,
        kind=kind,
        text=text,
        mentions=mentions,
        author=acting_user,
    )
    save_with_history(comment, acting_user=acting_user)
    if mentions:
        comment_mentions_notify(comment=comment)
    return comment


def comment_mentions_notify(*, comment: MappingComment) -> list[Notification]:
    """Tell the members a comment mentions (comment.mentions = usernames) through the inbox.

    Unknown names, non-members and the author are skipped; each mentioned member gets an inbox
    line and an e-mail once the transaction commits.
    """
    usernames = [u for u in (comment.mentions or []) if isinstance(u, str)]
    if not usernames:
        return []
    engagement = comment.engagement
    memberships = Membership.objects.filter(engagement=engagement, user__username__in=usernames)
    target = comment.entity_mapping.entity_name
    if comment.attribute_mapping is not None:
        target += f".{comment.attribute_mapping.attribute_name}"
    author = comment.author.get_full_name() or comment.author.username
    return notify(
        [m.user for m in memberships.select_related("user")],
        engagement=engagement,
        kind=NotificationKind.MENTIONED,
        subject=f"{author} mentioned you on {target}",
        body=comment.text,
        url=reverse("engagement-dashboard", args=[engagement.slug]),
        actor=comment.author,
    )


@transaction.atomic
def comment_add(
    *,
    mapping: EntityMapping | AttributeMapping,
    text: str,
    acting_user: User,
    kind: str = CommentKind.QUESTION,
    parent: MappingComment | None = None,
) -> MappingComment:
    """A comment (or a reply) on an entity or attribute mapping; @username mentions members."""
    policy.check(acting_user, mapping.engagement, Action.COMMENT)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write something."})
    if kind not in CommentKind.values:
        raise ValidationError({"kind": f"Unknown comment kind '{kind}'."})
    if parent is not None:
        if parent.parent is not None:
            parent = parent.parent  # threads are one level deep
        same_target = parent.entity_mapping_id == (
            mapping.pk if isinstance(mapping, EntityMapping) else mapping.entity_mapping_id
        )
        if not same_target:
            raise ValidationError({"parent": "Reply in the thread of the same mapping."})
    return _comment(mapping, kind, text, acting_user, parent=parent)


@transaction.atomic
def comment_resolve(
    *, comment: MappingComment, acting_user: User, resolved: bool = True
) -> MappingComment:
    policy.check(acting_user, comment.engagement, Action.COMMENT)
    if comment.parent_id:
        raise ValidationError("Resolve the thread, not a reply.")
    comment.resolved = resolved
    comment.resolved_by = acting_user if resolved else None
    comment.resolved_at = timezone.now() if resolved else None
    save_with_history(comment, acting_user=acting_user)
    return comment
