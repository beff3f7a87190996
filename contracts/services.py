"""Writes of contracts: keyword-only functions that check the policy, validate and save with history.

A contract version is written once, by `contract_import`, in one transaction with a constant
number of statements (COPY-based bulk inserts with history); it is never edited afterwards. Publishing is an
explicit step, `contract_publish`; only drafts may be discarded.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from workbench import policy
from workbench.history import (
    delete_with_history,
    fast_bulk_insert_with_history,
    save_with_history,
)
from workbench.memory import gc_paused
from workbench.models import Engagement
from workbench.policy import Action
from workbench.uploads import UploadKind, check_size

from .choices import LAYER_STATUS_MOVES, LayerStatus, SourceFormat
from .importers import (
    AttributeRecord,
    ContractFileError,
    EntityRecord,
    ParsedContract,
    RelationshipRecord,
    parse_contract,
)
from .models import (
    InterfaceAttribute,
    InterfaceEntity,
    InterfaceLayer,
    InterfaceLayerFile,
    InterfaceNote,
    InterfaceRelationship,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def contract_import(
    *,
    engagement: Engagement,
    file_name: str,
    content: bytes,
    acting_user: User,
    version: str | None = None,
) -> InterfaceLayer:
    """Import a contract file as a new draft version; all or nothing."""
    policy.check(acting_user, engagement, Action.IMPORT_CONTRACT)
    check_size(UploadKind.CONTRACT, len(content))
    file_name = PurePath(file_name).name
    # a 200x100 contract is ~500,000 parsed values and 40,000 rows, none of them in a cycle
    with gc_paused():
        return _import(engagement, file_name, content, acting_user, version)


def _import(
    engagement: Engagement, file_name: str, content: bytes, acting_user: User, version: str | None
) -> InterfaceLayer:
    parsed = parse_contract(file_name, content)
    # The caller's version wins, then the file's; a spreadsheet has none, so it is numbered.
    version = version or parsed.version or _next_version(engagement, parsed.name)
    if InterfaceLayer.objects.filter(
        engagement=engagement, name=parsed.name, version=version
    ).exists():
        raise ContractFileError(
            file_name,
            "version",
            f"version {version} of {parsed.name} has already been imported; "
            "import a changed contract under a new version.",
        )
    binary = parsed.source_format == SourceFormat.XLSX
    layer = InterfaceLayer(
        engagement=engagement,
        name=parsed.name,
        name_in_file=parsed.name_in_file,
        version=version,
        contract_id=parsed.contract_id,
        description=parsed.description,
        status=LayerStatus.DRAFT,
        source_file_name=file_name,
        source_format=parsed.source_format,
        file_hash=hashlib.sha256(content).hexdigest(),
        extra=parsed.extra,
        imported_by=acting_user,
    )
    try:
        layer.full_clean()
    except ValidationError as exc:
        raise ContractFileError(file_name, "", " ".join(exc.messages)) from None
    save_with_history(layer, acting_user=acting_user, validate=False)
    InterfaceLayerFile.objects.create(
        layer=layer,
        content=base64.b64encode(content).decode() if binary else content.decode("utf-8-sig"),
    )
    _write_contents(layer, parsed, file_name, acting_user)
    return layer


def _next_version(engagement: Engagement, name: str) -> str:
    count = InterfaceLayer.objects.filter(engagement=engagement, name=name).count()
    return f"{count + 1}.0.0"


def _write_contents(
    layer: InterfaceLayer, parsed: ParsedContract, file_name: str, user: User
) -> None:
    """Insert entities, attributes and relationships, with their history, for `layer`.

    Through `fast_bulk_insert_with_history` (COPY on PostgreSQL): a 200×100 contract's rows go in
    without a model instance or a per-value ORM preparation each, history rows included.
    """
    _check_lengths(parsed, file_name)
    now = timezone.now()
    entity_ids = fast_bulk_insert_with_history(
        InterfaceEntity,
        [
            entity_row(record, layer_id=layer.pk, position=position)
            for position, record in enumerate(parsed.entities, start=1)
        ],
        acting_user=user,
        history_date=now,
    )
    keys = []
    attributes = []
    for entity_id, entity_record in zip(entity_ids, parsed.entities, strict=True):
        for position, record in enumerate(entity_record.attributes, start=1):
            keys.append((entity_record.name, record.name))
            attributes.append(
                attribute_row(record, layer_id=layer.pk, entity_id=entity_id, position=position)
            )
    attribute_ids = fast_bulk_insert_with_history(
        InterfaceAttribute, attributes, acting_user=user, history_date=now
    )
    relationships = relationship_rows(
        parsed,
        layer_id=layer.pk,
        attribute_ids=dict(zip(keys, attribute_ids, strict=True)),
        file_name=file_name,
    )
    fast_bulk_insert_with_history(
        InterfaceRelationship, relationships, acting_user=user, history_date=now
    )


def relationship_rows(
    parsed: ParsedContract,
    *,
    layer_id: int,
    attribute_ids: dict[tuple[str, str], int],
    file_name: str,
) -> list[dict[str, Any]]:
    """The relationship rows of `parsed`, given the id of each (entity, attribute); a missing end
    or a pair declared twice is refused, naming the place."""
    entity_names = {entity for entity, _ in attribute_ids}
    rows = []
    seen = set()
    for rel in parsed.relationships:
        source = _relationship_end(attribute_ids, entity_names, rel, file_name, start=True)
        target = (
            None if rel.external else _relationship_end(attribute_ids, entity_names, rel, file_name)
        )
        if target is not None and (source, target) in seen:
            raise ContractFileError(
                file_name,
                rel.place,
                f"the relationship {rel.from_entity}.{rel.from_attribute} → "
                f"{rel.to_entity}.{rel.to_attribute} is declared twice.",
            )
        if target is not None:
            seen.add((source, target))
        rows.append(
            {
                "layer_id": layer_id,
                "from_attribute_id": source,
                "to_attribute_id": target,
                "to_reference": rel.to_reference,
                "from_reference": rel.from_reference,
                "on_schema": rel.on_schema,
                "also_on_property": rel.also_on_property,
                "group": rel.group,
                "key_position": rel.key_position,
                "extra": rel.extra,
                "property_extra": rel.property_extra,
            }
        )
    return rows


def _relationship_end(
    attribute_ids: dict[tuple[str, str], int],
    entity_names: set[str],
    rel: RelationshipRecord,
    file_name: str,
    *,
    start: bool = False,
) -> int:
    """The id of the attribute at one end of `rel`; a missing one is refused, naming the place."""
    entity, attribute = (
        (rel.from_entity, rel.from_attribute) if start else (rel.to_entity, rel.to_attribute)
    )
    found = attribute_ids.get((entity, attribute))
    if found is None:
        what = (
            f"entity '{entity}'"
            if entity not in entity_names
            else f"attribute '{entity}.{attribute}'"
        )
        verb = "starts at" if start else "refers to"
        raise ContractFileError(file_name, rel.place, f"the relationship {verb} a missing {what}.")
    return found


def entity_row(record: EntityRecord, *, layer_id: int, position: int) -> dict[str, Any]:
    """The stored values of one entity (field attname → value)."""
    return {
        "layer_id": layer_id,
        "position": position,
        "name": record.name,
        "physical_name": record.physical_name,
        "business_name": record.business_name,
        "description": record.description,
        "grain": record.grain,
        "extra": record.extra,
    }


def attribute_row(
    record: AttributeRecord, *, layer_id: int, entity_id: int, position: int
) -> dict[str, Any]:
    """The stored values of one attribute (field attname → value)."""
    return {
        "layer_id": layer_id,
        "entity_id": entity_id,
        "position": position,
        "name": record.name,
        "physical_name": record.physical_name,
        "business_name": record.business_name,
        "description": record.description,
        "logical_type": record.logical_type,
        "physical_type": record.physical_type,
        "length": record.length,
        "precision": record.precision,
        "scale": record.scale,
        "required": record.required,
        "unique": record.unique,
        "primary_key": record.primary_key,
        "primary_key_position": record.primary_key_position,
        "classification": record.classification,
        "examples": record.examples,
        "allowed_values": record.allowed_values,
        "max_length": record.max_length,
        "format": record.format,
        "pattern": record.pattern,
        "minimum": record.minimum,
        "maximum": record.maximum,
        "canonical_meaning": record.canonical_meaning,
        "extra": record.extra,
    }


def _check_lengths(parsed: ParsedContract, file_name: str) -> None:
    """Field lengths the database would refuse, named by place (bulk inserts skip full_clean)."""
    limits = _char_field_limits(InterfaceAttribute)
    entity_limits = _char_field_limits(InterfaceEntity)
    for entity_record in parsed.entities:
        for name, limit in entity_limits.items():
            value = getattr(entity_record, name, None)
            if isinstance(value, str) and len(value) > limit:
                raise ContractFileError(
                    file_name, entity_record.place, f"{name} is longer than {limit} characters."
                )
        for attribute_record in entity_record.attributes:
            for name, limit in limits.items():
                value = getattr(attribute_record, name, None)
                if isinstance(value, str) and len(value) > limit:
                    raise ContractFileError(
                        file_name,
                        attribute_record.place,
                        f"{name} is longer than {limit} characters.",
                    )


def _char_field_limits(model: type[models.Model]) -> dict[str, int]:
    """max_length of each CharField of `model`, by field name."""
    return {
        f.name: f.max_length
        for f in model._meta.fields
        if isinstance(f, models.CharField) and f.max_length
    }


def _move(layer: InterfaceLayer, status: str) -> None:
    if status not in LAYER_STATUS_MOVES[layer.status]:
        raise ValidationError(
            f"A {layer.get_status_display().lower()} contract version cannot become "
            f"{LayerStatus(status).label.lower()}."
        )
    layer.status = status


@transaction.atomic
def contract_publish(*, layer: InterfaceLayer, acting_user: User) -> InterfaceLayer:
    """Publish a draft version; the version published before it is superseded."""
    policy.check(acting_user, layer.engagement, Action.IMPORT_CONTRACT)
    layer = InterfaceLayer.objects.select_for_update().get(pk=layer.pk)
    _move(layer, LayerStatus.PUBLISHED)
    previous = (
        InterfaceLayer.objects.select_for_update()
        .filter(engagement=layer.engagement_id, status=LayerStatus.PUBLISHED)
        .first()
    )
    if previous is not None:
        _move(previous, LayerStatus.SUPERSEDED)
        save_with_history(previous, acting_user=acting_user, validate=False)
    layer.published_by = acting_user
    layer.published_at = timezone.now()
    save_with_history(layer, acting_user=acting_user)
    return layer


@transaction.atomic
def contract_discard(*, layer: InterfaceLayer, acting_user: User) -> None:
    """Delete a draft version that will not be published. Published versions are read-only."""
    policy.check(acting_user, layer.engagement, Action.IMPORT_CONTRACT)
    layer = InterfaceLayer.objects.select_for_update().get(pk=layer.pk)
    if layer.status != LayerStatus.DRAFT:
        raise ValidationError(
            f"Only a draft can be discarded; {layer} is {layer.get_status_display().lower()} "
            "and read-only."
        )
    delete_with_history(layer, acting_user=acting_user)


# --- interface understanding notes --------------------------------------------------------------


def _check_note_target(layer: InterfaceLayer | None, entity_name: str, attribute_name: str) -> None:
    if layer is None:
        raise ValidationError("Import a contract before writing notes on it.")
    entity = InterfaceEntity.objects.filter(layer=layer, name=entity_name).first()
    if entity is None:
        raise ValidationError({"entity_name": f"The contract has no entity '{entity_name}'."})
    if attribute_name and not entity.attributes.filter(name=attribute_name).exists():
        raise ValidationError(
            {"attribute_name": f"The entity '{entity_name}' has no attribute '{attribute_name}'."}
        )


@transaction.atomic
def note_create(
    *,
    engagement: Engagement,
    entity_name: str,
    attribute_name: str = "",
    text: str,
    acting_user: User,
) -> InterfaceNote:
    """Write an Interface Understanding Note on an entity or one of its attributes."""
    from .selectors import current_layer

    policy.check(acting_user, engagement, Action.WRITE_NOTES)
    _check_note_target(current_layer(engagement=engagement), entity_name, attribute_name)
    note = InterfaceNote(
        engagement=engagement,
        entity_name=entity_name,
        attribute_name=attribute_name or "",
        text=(text or "").strip(),
        author=acting_user,
    )
    save_with_history(note, acting_user=acting_user)
    return note


def _check_author(note: InterfaceNote, acting_user: User) -> None:
    policy.check(acting_user, note.engagement, Action.WRITE_NOTES)
    if note.author_id != acting_user.pk:
        raise PermissionDenied("Only the author can change or delete this note.")


@transaction.atomic
def note_update(*, note: InterfaceNote, text: str, acting_user: User) -> InterfaceNote:
    _check_author(note, acting_user)
    note.text = (text or "").strip()
    save_with_history(note, acting_user=acting_user)
    return note


@transaction.atomic
def note_delete(*, note: InterfaceNote, acting_user: User) -> None:
    _check_author(note, acting_user)
    delete_with_history(note, acting_user=acting_user)
