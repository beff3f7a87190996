"""What an edited workbook would change: row by row, field by field, with conflicts.

A row is compared with the mapping as it is now. When its Row Version is older than the row's
current version, the row's history gives the values the workbook was exported with: fields the
workbook did not touch are no change (the app's newer values stay), and fields it did touch are a
conflict, shown side by side and never applied.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.auth import get_user_model

from contracts.models import InterfaceAttribute, InterfaceEntity
from contracts.selectors import published_layer
from mappings.models import AttributeMapping, EntityMapping
from workbench.iterables import batched
from workbench.models import Engagement

from . import layout as L
from .reader import ParsedSpec, SheetRow
from .workbook import text

ENTITY_LABELS = {label: value for value, label in L.ENTITY_STATUS.items()}
MAPPING_LABELS = {label: value for value, label in L.MAPPING_STATUS.items()}
STRATEGY_LABELS = {label: value for value, label in L.LOAD_STRATEGY.items()}


@dataclass
class SpecDiff:
    changes: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    rows: int = 0

    def as_dict(self) -> dict:
        return {
            "changes": self.changes,
            "conflicts": self.conflicts,
            "notices": self.notices,
            "rows": self.rows,
        }


def _clean(field_name: str, value) -> str:
    value = "" if value is None else str(value)
    return value if field_name == "notes" else value.strip()


def _current(field_name: str, value) -> str:
    return _clean(field_name, text(value if value is not None else ""))


def _same(field_name: str, stored, value: str) -> bool:
    """Whether the workbook's cleaned `value` is the stored one as the workbook shows it. Most
    stored values are already that text: compared as they are before being cleaned."""
    return stored == value or _current(field_name, stored) == value


# Workbook rows compared per query: memory holds a chunk of rows and their stored values.
CHUNK_ROWS = 2000
ENTITY_VALUES = ("pk", "entity_name", *L.ENTITY_FIELDS.values(), "row_version", "updated_by_id")
ATTRIBUTE_VALUES = (
    "pk",
    "entity_mapping__entity_name",
    "attribute_name",
    *L.ATTRIBUTE_FIELDS.values(),
    "feasibility",
    "sme_review",
    "row_version",
    "updated_by_id",
)
CONTRACT_VALUES = (
    "entity__name",
    "name",
    "physical_type",
    "logical_type",
    "required",
    "canonical_meaning",
    "description",
)


def _stored(values: dict) -> SimpleNamespace:
    """A stored row as plain attributes (no model instance: most rows only get compared)."""
    row = SimpleNamespace(**values)
    if hasattr(row, "entity_mapping__entity_name"):
        row.entity_name = values["entity_mapping__entity_name"]
    return row


def spec_diff(*, engagement: Engagement, parsed: ParsedSpec) -> SpecDiff:
    """Compare the workbook's rows as they are read, a chunk at a time: an unchanged row costs a
    comparison of its values, and only changed rows are kept."""
    diff = SpecDiff()
    _check_cover(engagement, parsed.cover, diff)
    if diff.errors:
        return diff
    layer = published_layer(engagement=engagement)
    stale: list[tuple[SheetRow, str, SimpleNamespace, dict, dict]] = []
    entity_ids = _diff_entities(engagement, layer, parsed, diff, stale)
    # Rows seen so far, by stored row (an id) or, for keys the contract lacks, by key.
    seen_rows = _FirstRows()
    seen_unknown: dict[tuple[str, str], int] = {}
    for chunk in batched(parsed.mappings, CHUNK_ROWS):
        keys = [
            (
                _clean("", row.values["Interface Entity"]),
                _clean("", row.values["Interface Attribute"]),
            )
            for row in chunk
        ]
        # The chunk's entities × its attribute names: about the chunk itself for a workbook in
        # the exported order (rows grouped by entity), never more than the whole mapping.
        names = {attribute for _entity, attribute in keys}
        ids = {entity_ids[entity] for entity, _a in keys if entity in entity_ids}
        stored = {
            (m["entity_mapping__entity_name"], m["attribute_name"]): _stored(m)
            for m in AttributeMapping.objects.filter(
                entity_mapping_id__in=ids, attribute_name__in=names
            )
            .order_by()
            .values(*ATTRIBUTE_VALUES)
        }
        contract = {
            (a["entity__name"], a["name"]): a
            for a in InterfaceAttribute.objects.of_entities(layer, {entity for entity, _a in keys})
            .filter(name__in=names)
            .order_by()
            .values(*CONTRACT_VALUES)
        }
        for row, key in zip(chunk, keys, strict=True):
            diff.rows += 1
            label = ".".join(key)
            current_mapping = stored.get(key)
            if current_mapping is not None:
                first = seen_rows.setdefault(current_mapping.pk, row.row)
            else:
                first = seen_unknown.setdefault(key, row.row)
            if first != row.row:
                diff.errors.append(
                    f"{row.place('Interface Attribute')}: {label} is already on row "
                    f"{first}; keep one row per attribute."
                )
                continue
            if key not in contract or current_mapping is None:
                diff.errors.append(
                    f"{row.place('Interface Attribute')}: {label} is not an attribute of the "
                    "published contract."
                )
                continue
            wanted = _wanted(row, L.ATTRIBUTE_FIELDS, MAPPING_LABELS, L.MAPPING_STATUS, diff)
            if wanted is None:
                continue
            if wanted["transformation"]:
                wanted.pop("source_columns")  # derived lineage, ignored on import
            _informative(row, current_mapping, contract[key], label, diff)
            _compare(row, current_mapping, wanted, "attribute", label, diff, stale)
    _resolve_stale(stale, diff)
    return diff


def _diff_entities(engagement, layer, parsed: ParsedSpec, diff: SpecDiff, stale) -> dict[str, int]:
    """Compare the Entities sheet; returns the stored entity mappings' ids by name (their values
    are let go before the Mapping sheet is read)."""
    entities = {
        e["entity_name"]: _stored(e)
        for e in EntityMapping.objects.filter(engagement=engagement).values(*ENTITY_VALUES)
    }
    contract_entities = set(
        InterfaceEntity.objects.filter(layer=layer).values_list("name", flat=True)
    )
    seen: dict[str, int] = {}
    for row in parsed.entities:
        diff.rows += 1
        name = _clean("", row.values["Interface Entity"])
        if name in seen:
            diff.errors.append(
                f"{row.place('Interface Entity')}: the entity {name} is already on row "
                f"{seen[name]}; keep one row per entity."
            )
            continue
        seen[name] = row.row
        current = entities.get(name)
        if current is None or name not in contract_entities:
            diff.errors.append(
                f"{row.place('Interface Entity')}: '{name}' is not an entity of the published "
                "contract."
            )
            continue
        wanted = _wanted(row, L.ENTITY_FIELDS, ENTITY_LABELS, L.ENTITY_STATUS, diff)
        if wanted is None:
            continue
        _compare(row, current, wanted, "entity", name, diff, stale)
    return {name: e.pk for name, e in entities.items()}


class _FirstRows:
    """The first workbook row naming each stored row id: four bytes an id, in blocks allocated as
    ids arrive (a dict of ints took 120 bytes a row; rows saved together have neighbouring ids)."""

    BLOCK = 1024

    def __init__(self) -> None:
        self._blocks: dict[int, array] = {}

    def setdefault(self, pk: int, row: int) -> int:
        """The first row seen for `pk`, `row` when it is the first."""
        block = self._blocks.get(pk // self.BLOCK)
        if block is None:
            block = self._blocks[pk // self.BLOCK] = array("I", bytes(4 * self.BLOCK))
        if not block[pk % self.BLOCK]:  # 0: not seen (sheet rows start at 2)
            block[pk % self.BLOCK] = row
        return block[pk % self.BLOCK]


def _check_cover(engagement: Engagement, cover: dict, diff: SpecDiff) -> None:
    slug = cover.get(L.COVER_SLUG, "")
    if slug != engagement.slug:
        diff.errors.append(
            f"Sheet Cover: this workbook belongs to the engagement '{slug}', not "
            f"'{engagement.slug}'."
        )
        return
    layer = published_layer(engagement=engagement)
    if layer is None:
        diff.errors.append("The engagement has no published contract to import a mapping into.")
        return
    exported = f"{cover.get(L.COVER_CONTRACT, '')} {cover.get(L.COVER_CONTRACT_VERSION, '')}"
    if (cover.get(L.COVER_CONTRACT), cover.get(L.COVER_CONTRACT_VERSION)) != (
        layer.name,
        layer.version,
    ):
        diff.errors.append(
            f"Sheet Cover: this workbook was exported for the contract {exported}, but the "
            f"published contract is {layer.name} {layer.version}. Export a new workbook."
        )


def _wanted(row: SheetRow, columns: dict, labels: dict, known: dict, diff: SpecDiff):
    wanted = {}
    for column, name in columns.items():
        value = _clean(name, row.values[column])
        if name == "status":
            if value not in labels:
                diff.errors.append(
                    f"{row.place(column)}: '{value}' is not a status; choose one of "
                    f"{', '.join(known.values())}."
                )
                return None
            value = labels[value]
        elif name == "load_strategy" and value:
            if value not in STRATEGY_LABELS:
                diff.errors.append(
                    f"{row.place(column)}: '{value}' is not a load strategy; choose one of "
                    f"{', '.join(L.LOAD_STRATEGY.values())}, or leave it empty."
                )
                return None
            value = STRATEGY_LABELS[value]
        wanted[name] = value
    if row.values["Row Version"] is None:
        diff.errors.append(
            f"{row.place('Row Version')}: the Row Version is empty; keep the exported value."
        )
        return None
    return wanted


def _informative(row: SheetRow, current, attribute: dict, label: str, diff) -> None:
    shown = {
        "Feasibility": L.FEASIBILITY.get(current.feasibility, ""),
        "SME Review": L.SME_REVIEW.get(current.sme_review, ""),
        "Data Type": attribute["physical_type"] or attribute["logical_type"] or "",
        "Required": "Yes" if attribute["required"] else "No",
        "Canonical Meaning": text(attribute["canonical_meaning"] or attribute["description"] or ""),
    }
    for column, value in shown.items():
        if _clean("", row.values[column]) != value.strip():
            diff.notices.append(
                f"{row.place(column)}: {label} — the edit is not applied ({L.INFORMATIVE[column]})."
            )


def _compare(row, current, wanted: dict, kind: str, label: str, diff: SpecDiff, stale) -> None:
    changed = {
        name: value
        for name, value in wanted.items()
        if not _same(name, getattr(current, name), value)
    }
    if not changed:
        return
    version = row.values["Row Version"]
    if version != current.row_version:
        stale.append((row, kind, current, wanted, changed))
        return
    diff.changes.append(_change(row, current, kind, label, changed, version))


def _column_of(kind: str, name: str) -> str:
    columns = L.ENTITY_FIELDS if kind == "entity" else L.ATTRIBUTE_FIELDS
    return next(column for column, field_name in columns.items() if field_name == name)


def _shown(name: str, value: str, kind: str) -> str:
    if name == "status":
        return (L.ENTITY_STATUS if kind == "entity" else L.MAPPING_STATUS).get(value, value)
    return value


def _change(row, current, kind: str, label: str, changed: dict, version: int) -> dict:
    return {
        "kind": kind,
        "pk": current.pk,
        "sheet": row.sheet,
        "row": row.row,
        "key": label,
        "entity": current.entity_name,
        "row_version": version,
        "data": changed,
        "fields": [
            {
                "column": _column_of(kind, name),
                "before": _shown(name, _current(name, getattr(current, name)), kind),
                "after": _shown(name, value, kind),
            }
            for name, value in changed.items()
        ],
    }


def _resolve_stale(stale, diff: SpecDiff) -> None:
    """Rows whose Row Version is older than the row: compare with the exported values."""
    if not stale:
        return
    bases: dict[tuple[str, int, int], object] = {}
    for kind, model in (("entity", EntityMapping), ("attribute", AttributeMapping)):
        wanted = [(c.pk, row.values["Row Version"]) for row, k, c, _w, _ch in stale if k == kind]
        if not wanted:
            continue
        records = model.history.model.objects.filter(
            id__in={pk for pk, _v in wanted}, row_version__in={v for _p, v in wanted}
        ).order_by("history_id")
        for record in records:
            bases[(kind, record.id, record.row_version)] = record
    users = get_user_model().objects.in_bulk({c.updated_by_id for _r, _k, c, _w, _ch in stale})
    for row, kind, current, wanted, changed in stale:
        label = (
            current.entity_name
            if kind == "entity"
            else f"{current.entity_name}.{current.attribute_name}"
        )
        base = bases.get((kind, current.pk, row.values["Row Version"]))
        edited = (
            {n: v for n, v in wanted.items() if _current(n, getattr(base, n)) != v}
            if base is not None
            else changed
        )
        if not edited:
            diff.notices.append(
                f"{row.place()}: {label} was changed in the workbench since the export and not in "
                "the workbook; the workbench's values stay."
            )
            continue
        who = users.get(current.updated_by_id)
        diff.conflicts.append(
            {
                "kind": kind,
                "pk": current.pk,
                "sheet": row.sheet,
                "row": row.row,
                "key": label,
                "row_version": row.values["Row Version"],
                "current_version": current.row_version,
                "updated_by": (who.get_full_name() or who.username) if who else "",
                "fields": [
                    {
                        "column": _column_of(kind, name),
                        "exported": _shown(name, _current(name, getattr(base, name)), kind)
                        if base is not None
                        else "",
                        "workbook": _shown(name, value, kind),
                        "current": _shown(name, _current(name, getattr(current, name)), kind),
                    }
                    for name, value in edited.items()
                ],
            }
        )
