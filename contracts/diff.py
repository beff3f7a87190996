"""The difference between two versions of a contract: entities, attributes and relationships
added, removed and changed, with the fields that changed (old and new values), and whether each
change breaks the contract's consumers or its producer.

A change *tightens* the contract (it accepts less data: a new required attribute, an allowed value
dropped) or *loosens* it (it promises less: an attribute removed, a key no longer unique); a type
change does both. Loosening breaks consumers, who relied on the old promise; tightening breaks the
producer — here, the mapping that loads the Interface Layer, whose data passed the old version.
The verdicts follow the rules of `datacontract breaking` (datacontract-cli), so the workbench and
that tool agree on the same pair of files; a test holds them to it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from enum import StrEnum
from typing import Any

from .importers import quality_as_written
from .models import InterfaceAttribute, InterfaceEntity, InterfaceLayer, InterfaceRelationship
from .quality import NO_BAD_ROWS, Threshold, allowed_values_rule, rule_threshold

ENTITY_FIELDS = ["physical_name", "business_name", "description", "grain"]
ATTRIBUTE_FIELDS = [
    "logical_type",
    "physical_type",
    "required",
    "primary_key",
    "primary_key_position",
    "unique",
    "allowed_values",
    "max_length",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "canonical_meaning",
    "description",
    "business_name",
    "physical_name",
    "classification",
    "examples",
]
# Kept ODCS keys (`extra`) whose change is named by its own label.
EXTRA_LABELS = {
    "validValuesRule": "allowed values threshold",
    "quality": "quality rules",
    "customProperties": "custom properties",
    "logicalTypeOptions": "type options",
}


class Direction(StrEnum):
    """How a change moves the set of data the contract accepts."""

    TIGHTENS = "tightens"
    LOOSENS = "loosens"
    BOTH = "both"
    UNDETERMINED = "undetermined"  # it may move it; which way cannot be told
    UNTESTED = "untested"  # no check reads it (descriptions, names for people, examples)


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_LEVEL_RANK = {Level.INFO: 0, Level.WARNING: 1, Level.ERROR: 2}
CONSUMER, PRODUCER = "consumer", "producer"


def level_of(direction: Direction, perspective: str) -> Level:
    """The grade of a direction for consumers (who read the data) or the producer (who loads it)."""
    if direction == Direction.BOTH:
        return Level.ERROR
    if direction == Direction.UNDETERMINED:
        return Level.WARNING
    breaks = Direction.LOOSENS if perspective == CONSUMER else Direction.TIGHTENS
    return Level.ERROR if direction == breaks else Level.INFO


def _worst(directions, perspective: str) -> Level:
    levels = [level_of(d, perspective) for d in directions]
    return max(levels, key=_LEVEL_RANK.__getitem__, default=Level.INFO)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any
    # Not part of equality: a change is the same change whatever its grade.
    directions: tuple[Direction, ...] = dc_field(default=(Direction.UNTESTED,), compare=False)

    @property
    def label(self) -> str:
        if self.field in EXTRA_LABELS:
            return EXTRA_LABELS[self.field]
        return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", self.field).replace("_", " ").lower()

    @property
    def direction(self) -> Direction:
        return _combined(self.directions)


def _combined(directions) -> Direction:
    moving = {d for d in directions if d != Direction.UNTESTED}
    if Direction.BOTH in moving or {Direction.TIGHTENS, Direction.LOOSENS} <= moving:
        return Direction.BOTH
    if Direction.UNDETERMINED in moving:
        return Direction.UNDETERMINED
    return next(iter(moving), Direction.UNTESTED)


@dataclass
class EntityChange:
    entity: str
    changes: list[FieldChange]


@dataclass
class AttributeChange:
    entity: str
    attribute: str
    changes: list[FieldChange]

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.changes]


@dataclass
class Change:
    """One named change with its verdicts and the mappings it affects: an entity, an attribute or
    a relationship added, removed or changed."""

    kind: str  # entity | attribute | relationship
    action: str  # added | removed | changed
    entity: str
    attribute: str = ""
    relationship: str = ""
    fields: list[FieldChange] = dc_field(default_factory=list)
    direction: Direction = Direction.UNTESTED
    # Inside an entity or attribute added or removed ("entity", "attribute"), which carries the
    # verdict for it; "" for a change graded on its own.
    carried: str = ""
    affected: list[dict] = dc_field(default_factory=list)

    @property
    def subject(self) -> str:
        if self.kind == "relationship":
            return self.relationship
        return f"{self.entity}.{self.attribute}" if self.attribute else self.entity

    @property
    def directions(self) -> list[Direction]:
        if self.carried:
            return []
        if self.action == "changed":
            return [d for f in self.fields for d in f.directions]
        return [self.direction]

    @property
    def consumer(self) -> Level:
        return _worst(self.directions, CONSUMER)

    @property
    def producer(self) -> Level:
        return _worst(self.directions, PRODUCER)

    @property
    def breaking(self) -> bool:
        """Breaks consumers: the default view of `datacontract breaking`."""
        return self.consumer == Level.ERROR

    @property
    def verdict(self) -> str:
        """In words, for the page and the command line."""
        if self.carried:
            return f"with its {self.carried}"
        parts = [
            f"breaks {who}"
            for who, level in (("consumers", self.consumer), ("the load", self.producer))
            if level == Level.ERROR
        ]
        if parts:
            return ", ".join(parts)
        if Level.WARNING in (self.consumer, self.producer):
            return "may break (cannot tell)"
        return "not breaking"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "action": self.action,
            "entity": self.entity,
            "attribute": self.attribute or None,
            "subject": self.subject,
            "fields": [
                {"field": f.field, "old": f.old, "new": f.new, "direction": f.direction.value}
                for f in self.fields
            ],
            "direction": _combined(self.directions).value if self.directions else None,
            "consumer": self.consumer.value,
            "producer": self.producer.value,
            "breaking": self.breaking,
            "verdict": self.verdict,
            "affected_mappings": [
                {
                    "entity": i["entity"],
                    "attribute": i.get("attribute") or None,
                    "reason": i["reason"],
                }
                for i in self.affected
            ],
        }


@dataclass
class LayerDiff:
    old: InterfaceLayer | None
    new: InterfaceLayer
    entities_added: list[str] = dc_field(default_factory=list)
    entities_removed: list[str] = dc_field(default_factory=list)
    entities_changed: list[EntityChange] = dc_field(default_factory=list)
    attributes_added: list[tuple[str, str]] = dc_field(default_factory=list)
    attributes_removed: list[tuple[str, str]] = dc_field(default_factory=list)
    attributes_changed: list[AttributeChange] = dc_field(default_factory=list)
    relationships_added: list[str] = dc_field(default_factory=list)
    relationships_removed: list[str] = dc_field(default_factory=list)
    # Every change above, named, graded, in the order of the page.
    changes: list[Change] = dc_field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    @property
    def breaks_consumers(self) -> bool:
        return any(c.consumer == Level.ERROR for c in self.changes)

    @property
    def breaks_producer(self) -> bool:
        return any(c.producer == Level.ERROR for c in self.changes)

    def summary(self) -> str:
        return (
            f"entities +{len(self.entities_added)} -{len(self.entities_removed)} "
            f"~{len(self.entities_changed)}; attributes +{len(self.attributes_added)} "
            f"-{len(self.attributes_removed)} ~{len(self.attributes_changed)}; relationships "
            f"+{len(self.relationships_added)} -{len(self.relationships_removed)}"
        )

    def verdict_summary(self) -> str:
        def count(perspective: str, level: Level) -> int:
            return sum(1 for c in self.changes if getattr(c, perspective) == level)

        warnings = sum(
            1 for c in self.changes if Level.WARNING in (c.consumer, c.producer) and not c.carried
        )
        return (
            f"breaking for consumers: {count(CONSUMER, Level.ERROR)}; breaking for the load: "
            f"{count(PRODUCER, Level.ERROR)}; cannot tell: {warnings}"
        )

    def attach_affected(self, items: list[dict]) -> None:
        """Put each affected mapping under the change it comes from: its attribute's change,
        else its entity's."""
        by_subject = {(c.entity, c.attribute): c for c in self.changes if c.kind != "relationship"}
        for item in items:
            entity, attribute = item["entity"], item.get("attribute") or ""
            change = by_subject.get((entity, attribute)) or by_subject.get((entity, ""))
            if change is not None:
                change.affected.append(item)


@dataclass
class _Snapshot:
    entities: dict[str, dict]
    attributes: dict[tuple[str, str], dict]
    relationships: dict[str, tuple[str, str, bool]]  # label → (entity, attribute, on_schema)

    def key_size(self, entity: str) -> int:
        return sum(
            1 for (e, _a), row in self.attributes.items() if e == entity and row["primary_key"]
        )


def _snapshot(layer: InterfaceLayer | None) -> _Snapshot:
    if layer is None:
        return _Snapshot({}, {}, {})
    entities = {
        e["name"]: e
        for e in InterfaceEntity.objects.filter(layer=layer).values("name", "extra", *ENTITY_FIELDS)
    }
    attributes = {
        (a["entity__name"], a["name"]): a
        for a in InterfaceAttribute.objects.filter(layer=layer)
        .order_by("entity__position", "position")
        .values("entity__name", "name", "extra", *ATTRIBUTE_FIELDS)
    }
    relationships = {
        # An external target has no attribute here: it is named as written.
        f"{r[0]}.{r[1]} → {r[5] or f'{r[2]}.{r[3]}'}": (r[0], r[1], r[4])
        for r in InterfaceRelationship.objects.filter(layer=layer).values_list(
            "from_attribute__entity__name",
            "from_attribute__name",
            "to_attribute__entity__name",
            "to_attribute__name",
            "on_schema",
            "to_reference",
        )
    }
    return _Snapshot(entities, attributes, relationships)


def layer_diff(*, old: InterfaceLayer | None, new: InterfaceLayer) -> LayerDiff:
    """What changes from `old` (usually the published version) to `new`; 6 queries."""
    before, after = _snapshot(old), _snapshot(new)
    diff = LayerDiff(old=old, new=new)
    diff.entities_added = [n for n in after.entities if n not in before.entities]
    diff.entities_removed = [n for n in before.entities if n not in after.entities]
    for name, new_row in after.entities.items():
        if name in before.entities:
            changes = _entity_changes(name, before.entities[name], new_row)
            if changes:
                diff.entities_changed.append(EntityChange(name, changes))
    diff.attributes_added = [k for k in after.attributes if k not in before.attributes]
    diff.attributes_removed = [k for k in before.attributes if k not in after.attributes]
    for key, new_row in after.attributes.items():
        if key in before.attributes:
            changes = _attribute_changes(key, before.attributes[key], new_row, before, after)
            if changes:
                diff.attributes_changed.append(AttributeChange(key[0], key[1], changes))
    diff.relationships_added = sorted(set(after.relationships) - set(before.relationships))
    diff.relationships_removed = sorted(set(before.relationships) - set(after.relationships))
    diff.changes = _graded_changes(diff, before, after)
    return diff


def _graded_changes(diff: LayerDiff, before: _Snapshot, after: _Snapshot) -> list[Change]:
    """The changes in page order, each graded. An added element tightens the contract (the load
    must now fill it); a removed one loosens it (consumers lose it)."""
    added, removed = set(diff.entities_added), set(diff.entities_removed)
    attrs_added, attrs_removed = set(diff.attributes_added), set(diff.attributes_removed)
    changes = [
        Change("entity", "added", e, direction=Direction.TIGHTENS) for e in diff.entities_added
    ]
    changes += [
        Change("entity", "removed", e, direction=Direction.LOOSENS) for e in diff.entities_removed
    ]
    changes += [
        Change("entity", "changed", c.entity, fields=c.changes) for c in diff.entities_changed
    ]
    changes += [
        Change("attribute", "added", e, a, direction=Direction.TIGHTENS, carried=_in(e, added))
        for e, a in diff.attributes_added
    ]
    changes += [
        Change("attribute", "removed", e, a, direction=Direction.LOOSENS, carried=_in(e, removed))
        for e, a in diff.attributes_removed
    ]
    changes += [
        Change("attribute", "changed", c.entity, c.attribute, fields=c.changes)
        for c in diff.attributes_changed
    ]
    for action, labels, snapshot, direction, entities, attributes in (
        ("added", diff.relationships_added, after, Direction.TIGHTENS, added, attrs_added),
        ("removed", diff.relationships_removed, before, Direction.LOOSENS, removed, attrs_removed),
    ):
        for label in labels:
            entity, attribute, on_schema = snapshot.relationships[label]
            # A property's relationship lives inside the property; a schema one, inside the entity.
            carried = _in(entity, entities) or (
                "attribute" if not on_schema and (entity, attribute) in attributes else ""
            )
            changes.append(
                Change(
                    "relationship",
                    action,
                    entity,
                    "" if on_schema else attribute,
                    relationship=label,
                    direction=direction,
                    carried=carried,
                )
            )
    return changes


def _in(entity: str, entities: set[str]) -> str:
    return "entity" if entity in entities else ""


def _entity_changes(name: str, old: dict, new: dict) -> list[FieldChange]:
    changes = []
    for f in ENTITY_FIELDS:
        if old[f] != new[f]:
            direction = _physical_name(name, old[f], new[f]) if f == "physical_name" else None
            changes.append(FieldChange(f, old[f], new[f], (direction or Direction.UNTESTED,)))
    return changes + _extra_changes(old["extra"] or {}, new["extra"] or {}, {})


def _attribute_changes(
    key: tuple[str, str], old: dict, new: dict, before: _Snapshot, after: _Snapshot
) -> list[FieldChange]:
    changes = []
    composite = max(before.key_size(key[0]), after.key_size(key[0])) > 1
    for f in ATTRIBUTE_FIELDS:
        if old[f] != new[f]:
            directions = _attribute_directions(f, key[1], old, new, composite=composite)
            changes.append(FieldChange(f, old[f], new[f], directions))
    return changes + _extra_changes(_written(old), _written(new), (old, new))


def _written(row: dict) -> dict:
    """A row's kept keys with its quality rules as the file wrote them: the import keeps a plain
    allowed-values rule (`mustBe: 0`) only in `allowed_values`, so the two versions compare
    rule to rule whichever of them was plain. The values themselves are left out of the rules:
    the `allowed_values` field carries (and grades) them."""
    extra = dict(row["extra"] or {})
    values = row["allowed_values"]
    quality = [_without_values(rule, values) for rule in quality_as_written(values, extra)]
    if quality and "validValuesRule" not in extra:
        extra["quality"] = quality
    return extra


def _without_values(rule: Any, values: list) -> Any:
    arguments = rule.get("arguments") if isinstance(rule, dict) else None
    if not isinstance(arguments, dict) or arguments.get("validValues") != values:
        return rule
    return {**rule, "arguments": {k: v for k, v in arguments.items() if k != "validValues"}}


def _attribute_directions(
    name: str, attribute: str, old: dict, new: dict, *, composite: bool
) -> tuple[Direction, ...]:
    was, now = old[name], new[name]
    if name in ("logical_type", "physical_type"):
        return (_presence(was, now) or Direction.BOTH,)
    if name in ("required", "unique"):
        return (_flag(was, now),)
    if name == "primary_key":
        direction = _flag(was, now)
        # Joining or leaving a composite key changes the column's not-null and the key's uniqueness.
        return (Direction.BOTH if composite and direction != Direction.UNTESTED else direction,)
    if name == "physical_name":
        return (_physical_name(attribute, was, now),)
    if name == "allowed_values":
        return _allowed_values_directions(old, new)
    if name in ("max_length", "minimum", "maximum"):
        lower_bound = name == "minimum"
        return (_presence(was, now) or _bound(was, now, lower_bound=lower_bound),)
    if name == "pattern":
        return (_presence(was, now) or Direction.UNDETERMINED,)
    return (Direction.UNTESTED,)  # names for people, descriptions, examples, key position, format


def _absent(value: Any) -> bool:
    return value in (None, "", [], {})


def _presence(was: Any, now: Any) -> Direction | None:
    """A constraint that appears tightens; one that disappears loosens; None when both exist."""
    if _absent(was) and not _absent(now):
        return Direction.TIGHTENS
    if not _absent(was) and _absent(now):
        return Direction.LOOSENS
    return None


def _flag(was: bool, now: bool) -> Direction:
    if bool(was) == bool(now):
        return Direction.UNTESTED
    return Direction.TIGHTENS if now else Direction.LOOSENS


def _physical_name(name: str, was: str, now: str) -> Direction:
    # An absent physical name is the logical name: spelling it out changes nothing.
    return Direction.UNTESTED if (was or name) == (now or name) else Direction.BOTH


def _bound(was: Any, now: Any, *, lower_bound: bool) -> Direction:
    old, new = _as_number(was), _as_number(now)
    if old is None or new is None:
        return Direction.UNDETERMINED
    if old == new:
        return Direction.UNTESTED
    raised = new > old
    return Direction.TIGHTENS if raised == lower_bound else Direction.LOOSENS


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _threshold_of(row: dict) -> Threshold:
    return rule_threshold(allowed_values_rule(_AttributeView(row))) or NO_BAD_ROWS


@dataclass
class _AttributeView:
    """What `allowed_values_rule` reads of an attribute, from a snapshot row."""

    row: dict

    @property
    def extra(self) -> dict:
        return self.row["extra"] or {}

    @property
    def allowed_values(self) -> list:
        return self.row["allowed_values"]


def _allowed_values_directions(old: dict, new: dict) -> tuple[Direction, ...]:
    """Allowed values are an `invalidValues` rule counting the rows outside them: the rule
    appearing tightens, disappearing loosens; a value dropped counts more rows as bad, a value
    added fewer — which tightens or loosens as the rule's threshold reads the count."""
    was, now = old["allowed_values"] or [], new["allowed_values"] or []
    presence = _presence(was, now)
    if presence is not None:
        return (presence,)
    threshold = _threshold_of(new)
    was_keys, now_keys = {repr(v) for v in was}, {repr(v) for v in now}
    directions = []
    if was_keys - now_keys:
        directions.append(_count_direction(threshold, more=True))
    if now_keys - was_keys:
        directions.append(_count_direction(threshold, more=False))
    return tuple(directions) or (Direction.UNTESTED,)


def _count_direction(threshold: Threshold, *, more: bool) -> Direction:
    """How counting more (or fewer) bad rows moves a rule, judged by its threshold."""
    probes = [
        p for p in _probes([0, threshold.low, threshold.high], not threshold.percent) if p >= 0
    ]
    accepted = [threshold.passes(p) for p in probes]
    if all(accepted) or not any(accepted):
        return Direction.UNTESTED
    if accepted == sorted(accepted, reverse=True):  # passes up to a limit
        return Direction.TIGHTENS if more else Direction.LOOSENS
    if accepted == sorted(accepted):
        return Direction.LOOSENS if more else Direction.TIGHTENS
    return Direction.BOTH


def _probes(bounds: list, integers: bool) -> list[float]:
    """Values that tell apart thresholds that change their answer only at `bounds`."""
    points = sorted({b for b in bounds if b is not None})
    if integers:
        return sorted({n for b in points for n in range(math.floor(b) - 1, math.ceil(b) + 2)})
    middles = [(a + b) / 2 for a, b in zip(points, points[1:], strict=False)]
    return sorted([*points, *middles, points[0] - 1, points[-1] + 1])


def _threshold_direction(old: Threshold | None, new: Threshold | None) -> Direction:
    if old is None and new is None:
        return Direction.UNTESTED
    if old is None or new is None:
        return Direction.TIGHTENS if new is not None else Direction.LOOSENS
    if old.percent != new.percent:
        return Direction.UNDETERMINED
    bounds = [old.low, old.high, new.low, new.high]
    probes = _probes(bounds, integers=not new.percent)
    loosens = any(new.passes(p) and not old.passes(p) for p in probes)
    tightens = any(old.passes(p) and not new.passes(p) for p in probes)
    if loosens and tightens:
        return Direction.BOTH
    if loosens:
        return Direction.LOOSENS
    return Direction.TIGHTENS if tightens else Direction.UNTESTED


def _extra_changes(old: dict, new: dict, rows) -> list[FieldChange]:
    """Changes of the kept ODCS keys, each graded by what a check reads of it."""
    changes = []
    for key in [*old, *(k for k in new if k not in old)]:
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        if key == "validValuesRule" and rows:
            direction = _threshold_direction(_threshold_of(rows[0]), _threshold_of(rows[1]))
            directions: tuple[Direction, ...] = (direction,)
        elif key == "quality":
            directions = _quality_directions(was or [], now or [])
        elif key == "logicalTypeOptions":
            directions = _option_directions(was or {}, now or {})
        else:
            directions = (Direction.UNTESTED,)
        changes.append(FieldChange(key, was, now, directions))
    return changes


_LOWER_OPTIONS = {"minLength", "minItems", "exclusiveMinimum"}
_UPPER_OPTIONS = {"maxItems", "exclusiveMaximum"}


def _option_directions(old: dict, new: dict) -> tuple[Direction, ...]:
    directions = []
    for key in _LOWER_OPTIONS | _UPPER_OPTIONS:
        was, now = old.get(key), new.get(key)
        if was != now:
            bound = _bound(was, now, lower_bound=key in _LOWER_OPTIONS)
            directions.append(_presence(was, now) or bound)
    return tuple(directions) or (Direction.UNTESTED,)


def _is_guarantee(rule: Any) -> bool:
    """A rule a check can fail on: a threshold, and a metric or a query to measure."""
    if not isinstance(rule, dict) or rule_threshold(rule) is None:
        return False
    return bool(rule.get("metric") or rule.get("rule") or rule.get("query"))


def _quality_directions(old: list, new: list) -> tuple[Direction, ...]:
    """Rules paired by name, else by equality: a checked rule added tightens, removed loosens;
    a paired rule whose threshold moves is judged by the threshold, else cannot be told."""
    remaining = list(old)
    directions = []
    for rule in new:
        partner = _partner(rule, remaining)
        if partner is None:
            if _is_guarantee(rule):
                directions.append(Direction.TIGHTENS)
            continue
        remaining.remove(partner)
        if partner == rule:
            continue
        old_t, new_t = rule_threshold(partner), rule_threshold(rule)
        what = ("type", "metric", "rule", "query", "engine", "implementation")
        if any(partner.get(k) != rule.get(k) for k in what) or _arguments(partner) != _arguments(
            rule
        ):
            directions.append(Direction.UNDETERMINED)
        elif old_t != new_t:
            directions.append(_threshold_direction(old_t, new_t))
    directions += [Direction.LOOSENS for rule in remaining if _is_guarantee(rule)]
    return tuple(directions) or (Direction.UNTESTED,)


def _arguments(rule: dict) -> dict:
    """A rule's arguments but the allowed values, which the attribute's own field carries."""
    return {k: v for k, v in (rule.get("arguments") or {}).items() if k != "validValues"}


def _partner(rule: Any, candidates: list) -> Any:
    if isinstance(rule, dict) and rule.get("name"):
        named = [c for c in candidates if isinstance(c, dict) and c.get("name") == rule["name"]]
        if named:
            return named[0]
    if rule in candidates:
        return rule
    same_check = [
        c
        for c in candidates
        if isinstance(c, dict)
        and isinstance(rule, dict)
        and not c.get("name")
        and all(c.get(k) == rule.get(k) for k in ("type", "metric", "rule", "query"))
    ]
    return same_check[0] if same_check else None
