"""What an edited workbook would change: row by row, field by field, with conflicts.

A row is compared with the mapping as it is now. When its Row Version is older than the row's
current version, the row's history gives the values the workbook was exported with: fields the
workbook did not touch are no change (the app's newer values stay), and fields it did touch are a
conflict, shown side by side and never applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.selectors import published_layer
from mappings.models import AttributeMapping, EntityMapping
from mappings.selectors.mapping import contract_attributes
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


def spec_diff(*, engagement: Engagement, parsed: ParsedSpec) -> SpecDiff:
    diff = SpecDiff()
    _check_cover(engagement, parsed.cover, diff)
    if diff.errors:
        return diff
    contract = contract_attributes(engagement=engagement)
    entities = {e.entity_name: e for e in EntityMapping.objects.filter(engagement=engagement)}
    attributes = {
        (a.entity_mapping.entity_name, a.attribute_name): a
        for a in AttributeMapping.objects.filter(engagement=engagement).select_related(
            "entity_mapping", "updated_by"
        )
    }
    contract_entities = {entity for entity, _ in contract}
    stale: list[tuple[SheetRow, object, dict, dict]] = []

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

    seen_attributes: dict[tuple[str, str], int] = {}
    for row in parsed.mappings:
        diff.rows += 1
        key = (
            _clean("", row.values["Interface Entity"]),
            _clean("", row.values["Interface Attribute"]),
        )
        label = ".".join(key)
        if key in seen_attributes:
            diff.errors.append(
                f"{row.place('Interface Attribute')}: {label} is already on row "
                f"{seen_attributes[key]}; keep one row per attribute."
            )
            continue
        seen_attributes[key] = row.row
        if key not in contract:
            diff.errors.append(
                f"{row.place('Interface Attribute')}: {label} is not an attribute of the "
                "published contract."
            )
            continue
        current_mapping = attributes[key]  # the import prepared every contract row
        wanted = _wanted(row, L.ATTRIBUTE_FIELDS, MAPPING_LABELS, L.MAPPING_STATUS, diff)
        if wanted is None:
            continue
        if wanted["transformation"]:
            wanted.pop("source_columns")  # derived lineage, ignored on import
        _informative(row, current_mapping, contract[key], label, diff)
        _compare(row, current_mapping, wanted, "attribute", label, diff, stale)
    _resolve_stale(stale, diff)
    return diff


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


def _informative(row: SheetRow, current: AttributeMapping, attribute, label: str, diff) -> None:
    shown = {
        "Feasibility": L.FEASIBILITY.get(current.feasibility, ""),
        "SME Review": L.SME_REVIEW.get(current.sme_review, ""),
        "Data Type": attribute.physical_type or attribute.logical_type or "",
        "Required": "Yes" if attribute.required else "No",
        "Canonical Meaning": text(attribute.canonical_meaning or attribute.description or ""),
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
        if _current(name, getattr(current, name)) != value
    }
    if not changed:
        return
    version = row.values["Row Version"]
    if version != current.row_version:
        stale.append((row, current, wanted, changed))
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
        "entity": current.entity_name if kind == "entity" else current.entity_mapping.entity_name,
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
    bases: dict[tuple[type, int, int], object] = {}
    for model in (EntityMapping, AttributeMapping):
        wanted = [
            (c.pk, row.values["Row Version"]) for row, c, _w, _ch in stale if type(c) is model
        ]
        if not wanted:
            continue
        records = model.history.model.objects.filter(
            id__in={pk for pk, _v in wanted}, row_version__in={v for _p, v in wanted}
        ).order_by("history_id")
        for record in records:
            bases[(model, record.id, record.row_version)] = record
    for row, current, wanted, changed in stale:
        kind = "entity" if isinstance(current, EntityMapping) else "attribute"
        label = (
            current.entity_name
            if kind == "entity"
            else f"{current.entity_mapping.entity_name}.{current.attribute_name}"
        )
        base = bases.get((type(current), current.pk, row.values["Row Version"]))
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
        who = current.updated_by
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
