"""Writes of the Master Mapping Specification: export (directly or as a job), and the re-import of
an edited workbook — read, previewed row by row, then applied atomically or cancelled."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contracts.selectors import published_layer
from mappings.compiled import CompiledEntity, compile_rule_contexts
from mappings.models import AttributeMapping, EntityMapping
from mappings.services.mapping import (
    MappingConflict,
    attribute_mapping_update,
    entity_mapping_update,
    mapping_prepare,
)
from workbench import policy
from workbench.capping import capped
from workbench.history import save_with_history
from workbench.iterables import batched
from workbench.jobs import job_enqueue
from workbench.models import Engagement, Job
from workbench.policy import Action

from ..choices import SPEC_IMPORT_MOVES, SpecImportState
from ..models import SpecImport
from ..selectors.spec import spec_data
from ..spec import layout as L
from ..spec.diff import spec_diff
from ..spec.reader import SpecReadError, open_spec
from ..spec.workbook import write_spec

SPEC_EXPORT_JOB = "exports.spec"


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


# --- export --------------------------------------------------------------------------------------


@transaction.atomic
def spec_export(*, engagement: Engagement, acting_user: User, stream, progress=None) -> dict:
    """Write the workbook to `stream` (a path or a binary file); returns the Cover's values.

    The workbook has a row for every entity and attribute of the published contract. Rows nobody
    prepared yet are saved first (with history, as the acting user) when that user may edit the
    mapping; for anyone else they are rendered with their defaults and nothing is written.
    """
    policy.check(acting_user, engagement, Action.EXPORT)
    data = spec_data(engagement=engagement)
    if data.unsaved and policy.can(acting_user, engagement, Action.EDIT_MAPPING):
        mapping_prepare(engagement=engagement, acting_user=acting_user)
        data = spec_data(engagement=engagement)
    return write_spec(
        engagement=engagement,
        path_or_stream=stream,
        generated_by=_name(acting_user),
        progress=progress,
        data=data,
    )


def spec_export_start(*, engagement: Engagement, acting_user: User) -> Job:
    """Produce the workbook in a job (large specs); its result carries the download link."""
    policy.check(acting_user, engagement, Action.EXPORT)
    return job_enqueue(kind=SPEC_EXPORT_JOB, engagement=engagement, acting_user=acting_user)


def spec_file_name(engagement: Engagement) -> str:
    return f"{engagement.slug}-mapping-specification-{timezone.localdate():%Y%m%d}.xlsx"


# --- re-import -----------------------------------------------------------------------------------


class _DryRun(Exception):
    pass


@transaction.atomic
def spec_import_preview(
    *, engagement: Engagement, file_name: str, content: bytes, acting_user: User
) -> SpecImport:
    """Read an edited workbook and record what it would change; nothing of the mapping is saved.

    Bad input (not a workbook, another engagement or contract version, renamed sheets or headers,
    formulas, wrong types, unknown or duplicated rows, rules the workbench refuses) raises a
    ValidationError listing every problem by sheet, row and column.
    """
    policy.check(acting_user, engagement, Action.EDIT_MAPPING)
    try:
        with open_spec(content) as parsed:
            if published_layer(engagement=engagement) is not None:
                # A workbook exported before anyone prepared the mapping (or by a Viewer) lists
                # rows not saved yet: save them (this transaction; a refused preview rolls them
                # back) so its rows are compared and applied like any other.
                mapping_prepare(engagement=engagement, acting_user=acting_user)
            # The rows are read as they are compared; problems reading them come first.
            diff = spec_diff(engagement=engagement, parsed=parsed)
            parsed.finish()
    except SpecReadError as exc:
        raise ValidationError({"file": exc.errors}) from None
    if not diff.errors and diff.changes:
        diff.errors = _validate(diff.changes, acting_user)
    if diff.errors:
        raise ValidationError({"file": capped(diff.errors, noun="problems")})
    spec_import = SpecImport(
        engagement=engagement,
        file_name=file_name[:255],
        file_hash=hashlib.sha256(content).hexdigest(),
        file_size=len(content),
        preview=diff.as_dict(),
        change_count=len(diff.changes),
        conflict_count=len(diff.conflicts),
        uploaded_by=acting_user,
    )
    save_with_history(spec_import, acting_user=acting_user)
    return spec_import


def _validate(changes: list[dict], acting_user: User) -> list[str]:
    """Apply the changes with the mapping services in a transaction rolled back at the end: the
    workbook's rows are checked exactly as the workbench checks a save."""
    errors: list[str] = []
    try:
        with transaction.atomic():
            _apply(changes, acting_user, errors=errors)
            raise _DryRun
    except _DryRun:
        pass
    return errors


def _apply(changes: list[dict], acting_user: User, *, errors: list[str] | None) -> tuple[int, list]:
    """Apply each change through the mapping services with its workbook Row Version.

    With `errors`, a refused row is recorded there and the others go on (the dry run); without, the
    first refusal raises. Returns the count applied and the rows refused as conflicts.
    Each service call reports its change (mappings.events.spec_changed): however many rows, the
    import's transaction queues one notice per engagement, and a dry run's rollback drops it.
    """
    applied = 0
    refused: list[dict] = []
    entity_changes = [c for c in changes if c["kind"] == "entity"]
    attribute_changes = [c for c in changes if c["kind"] == "attribute"]
    entities = EntityMapping.objects.in_bulk([c["pk"] for c in entity_changes])
    attributes = AttributeMapping.objects.select_related("entity_mapping").in_bulk(
        [c["pk"] for c in attribute_changes]
    )
    version_before = {pk: mapping.row_version for pk, mapping in attributes.items()}
    touched: set[str] = set()
    for change in entity_changes:
        update_entity = partial(
            entity_mapping_update,
            entity_mapping=entities[change["pk"]],
            data=change["data"],
            acting_user=acting_user,
            row_version=change["row_version"],
        )
        if _applied(update_entity, change, refused=refused, errors=errors):
            touched.add(change["entity"])
            applied += 1
    for chunk in batched(attribute_changes, RULE_CONTEXT_CHUNK):
        contexts = _rule_contexts([attributes[c["pk"]] for c in chunk])
        for change in chunk:
            mapping = attributes[change["pk"]]
            version = change["row_version"]
            if change["entity"] in touched and version_before[mapping.pk] == version:
                # The entity's new FROM clause re-checked this rule and bumped its version: the
                # workbook was based on the version before this import.
                mapping.refresh_from_db(fields=["row_version"])
                version = mapping.row_version
            update = partial(
                attribute_mapping_update,
                attribute_mapping=mapping,
                data=change["data"],
                acting_user=acting_user,
                row_version=version,
                rule_context=contexts.get(mapping.entity_mapping_id),
            )
            applied += _applied(update, change, refused=refused, errors=errors)
    return applied, refused


def _applied(
    update: Callable[[], object], change: dict, *, refused: list, errors: list[str] | None
) -> bool:
    """Run one row's service call; a conflict joins `refused`, a refusal goes to `_refusal`."""
    try:
        update()
    except MappingConflict:
        refused.append(change)
        return False
    except ValidationError as exc:
        _refusal(change, exc, errors)
        return False
    return True


# Attribute changes checked at a time against their entities, compiled together: a compiled
# entity holds its catalog tables and contract (0.4 MB for 100 profiled columns), so memory holds
# at most ten of them, and the queries that compile them are one set per ten rows, not per row.
RULE_CONTEXT_CHUNK = 10


def _rule_contexts(mappings: list[AttributeMapping]) -> dict[int, CompiledEntity]:
    """The entities of `mappings` compiled together, with the FROM clauses the entity changes of
    the import left them."""
    entity_ids = {mapping.entity_mapping_id for mapping in mappings}
    return compile_rule_contexts(
        entity_mappings=list(
            EntityMapping.objects.filter(pk__in=entity_ids).select_related("engagement")
        )
    )


def _refusal(change: dict, exc: ValidationError, errors: list[str] | None) -> None:
    messages = _placed(change, exc)
    if errors is None:
        raise ValidationError({"file": messages})
    errors.extend(messages)


def _placed(change: dict, exc: ValidationError) -> list[str]:
    from openpyxl.utils import get_column_letter

    header = L.ENTITY_HEADER if change["kind"] == "entity" else L.MAPPING_HEADER
    columns = L.ENTITY_FIELDS if change["kind"] == "entity" else L.ATTRIBUTE_FIELDS
    by_field = {name: column for column, name in columns.items()}
    where = f"Sheet {change['sheet']}, row {change['row']}"
    if not hasattr(exc, "error_dict"):
        return [f"{where} ({change['key']}): {m}" for m in exc.messages]
    placed = []
    for name, messages in exc.message_dict.items():
        column = by_field.get(name)
        if column is None and name == "driving_alias":
            column = "Alias"
        place = (
            f"{where}, column {get_column_letter(header.index(column) + 1)} ({column})"
            if column
            else where
        )
        placed += [f"{place}: {change['key']} — {message}" for message in messages]
    return placed


def _move(spec_import: SpecImport, state: str) -> None:
    if state not in SPEC_IMPORT_MOVES[spec_import.state]:
        raise ValidationError(
            f"This import is already {spec_import.get_state_display().lower()}; upload the "
            "workbook again to import it."
        )
    spec_import.state = state


@transaction.atomic
def spec_import_apply(*, spec_import: SpecImport, acting_user: User) -> SpecImport:
    """Apply the previewed changes atomically, as the importing user. Rows changed in the
    workbench since the export (conflicts) are refused and counted, never overwritten."""
    policy.check(acting_user, spec_import.engagement, Action.EDIT_MAPPING)
    spec_import = SpecImport.objects.select_for_update().get(pk=spec_import.pk)
    _move(spec_import, SpecImportState.APPLIED)
    changes = spec_import.preview.get("changes", [])
    applied, refused = _apply(changes, acting_user, errors=None)
    spec_import.applied_count = applied
    spec_import.refused_count = len(refused) + spec_import.conflict_count
    spec_import.decided_by = acting_user
    spec_import.decided_at = timezone.now()
    if refused:
        preview = dict(spec_import.preview)
        preview["refused_at_apply"] = [c["key"] for c in refused]
        spec_import.preview = preview
    save_with_history(spec_import, acting_user=acting_user)
    return spec_import


@transaction.atomic
def spec_import_cancel(*, spec_import: SpecImport, acting_user: User) -> SpecImport:
    policy.check(acting_user, spec_import.engagement, Action.EDIT_MAPPING)
    spec_import = SpecImport.objects.select_for_update().get(pk=spec_import.pk)
    _move(spec_import, SpecImportState.CANCELLED)
    spec_import.decided_by = acting_user
    spec_import.decided_at = timezone.now()
    save_with_history(spec_import, acting_user=acting_user)
    return spec_import
