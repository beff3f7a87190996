"""Pages of contracts: overview, entity, mandatory list, canonical semantics, ERD, import, version
diff, publish/discard/export, and Interface Understanding Notes. Each view resolves, calls a
service or a selector, renders; nothing more."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from workbench.policy import Action
from workbench.web import add_service_errors, engagement_context, engagement_view, render_page

from . import selectors, services
from .diff import layer_diff
from .exporters import layer_to_yaml
from .forms import ContractImportForm, NoteEditForm, NoteForm
from .hooks import affected_mappings, has_affected_mappings_provider
from .models import InterfaceEntity, InterfaceLayer, InterfaceNote


def _layer(request, engagement) -> InterfaceLayer | None:
    """The version asked for with ?version=<id>, else the published one, else the newest draft."""
    pk = request.GET.get("version", "")
    if pk.isdigit():
        return get_object_or_404(InterfaceLayer, engagement=engagement, pk=int(pk))
    return selectors.current_layer(engagement=engagement)


def _context(request, engagement, layer, **extra) -> dict:
    return engagement_context(
        request,
        engagement,
        layer=layer,
        version_query=f"?version={layer.pk}" if layer and request.GET.get("version") else "",
        **extra,
    )


@engagement_view()
def contract_overview(request, engagement):
    layer = _layer(request, engagement)
    entities = list(selectors.layer_entities(layer=layer)) if layer else []
    note_counts = selectors.note_counts(engagement=engagement)
    for entity in entities:
        entity.note_count = note_counts.get(entity.name, 0)
    context = _context(
        request,
        engagement,
        layer,
        layers=selectors.layer_list(engagement=engagement),
        entities=entities,
        counts=selectors.layer_counts(layer=layer) if layer else None,
    )
    return render_page(request, "contracts/overview.html", context)


@engagement_view(Action.IMPORT_CONTRACT)
def contract_import(request, engagement):
    form = ContractImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            published = selectors.published_layer(engagement=engagement)
            try:
                layer = services.contract_import(
                    engagement=engagement,
                    file_name=upload.name,
                    content=upload.read(),
                    version=form.cleaned_data["version"] or None,
                    acting_user=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Imported {layer.name} {layer.version} as a draft. Review, then publish.",
                )
                if published is not None:
                    return redirect("contract-diff", engagement.slug, layer.pk)
                return redirect(
                    reverse("contract-overview", args=[engagement.slug]) + f"?version={layer.pk}"
                )
        status = 400
    context = engagement_context(request, engagement, form=form)
    return render_page(request, "contracts/import.html", context, status=status)


@engagement_view()
def contract_entity(request, engagement, entity_name):
    layer = _layer(request, engagement)
    if layer is None:
        return redirect("contract-overview", engagement.slug)
    entity = get_object_or_404(InterfaceEntity, layer=layer, name=entity_name)
    attributes = list(selectors.entity_attributes(entity=entity))
    notes = list(selectors.entity_notes(engagement=engagement, entity_name=entity.name))
    context = _context(
        request,
        engagement,
        layer,
        attributes=attributes,
        mandatory_count=sum(1 for a in attributes if a.required),
        optional_count=sum(1 for a in attributes if not a.required),
        **_notes_context(entity, attributes, notes),
    )
    return render_page(request, "contracts/entity.html", context)


def _notes_context(entity, attributes, notes, form=None) -> dict:
    by_attribute: dict[str, list] = {}
    for note in notes:
        by_attribute.setdefault(note.attribute_name, []).append(note)
    names = [a.name for a in attributes]
    for attribute in attributes:
        attribute.notes = by_attribute.get(attribute.name, [])
    return {
        "entity": entity,
        "entity_notes": by_attribute.get("", []),
        "attribute_notes": [(name, by_attribute[name]) for name in names if name in by_attribute],
        "notes_by_attribute": by_attribute,
        "note_form": form
        or NoteForm(initial={"entity_name": entity.name}, attribute_choices=names),
    }


@engagement_view()
def contract_mandatory(request, engagement):
    layer = _layer(request, engagement)
    groups: list[dict] = []
    if layer:
        by_entity: dict[int, dict] = {}
        for attribute in selectors.layer_attributes(layer=layer):
            group = by_entity.get(attribute.entity_id)
            if group is None:
                group = {"entity": attribute.entity, "mandatory": [], "optional": []}
                by_entity[attribute.entity_id] = group
                groups.append(group)
            group["mandatory" if attribute.required else "optional"].append(attribute)
    context = _context(request, engagement, layer, groups=groups)
    return render_page(request, "contracts/mandatory.html", context)


@engagement_view()
def contract_semantics(request, engagement):
    layer = _layer(request, engagement)
    query = request.GET.get("q", "").strip()[:200]
    attributes = selectors.layer_attributes(layer=layer, search=query) if layer else []
    context = _context(request, engagement, layer, attributes=attributes, q=query)
    return render_page(
        request,
        "contracts/semantics.html",
        context,
        fragment="contracts/partials/semantics_table.html",
    )


@engagement_view()
def contract_erd(request, engagement):
    layer = _layer(request, engagement)
    erd = selectors.layer_erd(layer=layer) if layer else {"nodes": [], "edges": []}
    if layer:
        base = reverse("contract-entity", args=[engagement.slug, "__name__"])
        suffix = f"?version={layer.pk}" if request.GET.get("version") else ""
        for node in erd["nodes"]:
            node["url"] = base.replace("__name__", node["id"]) + suffix
    context = _context(request, engagement, layer, erd=erd)
    return render_page(request, "contracts/erd.html", context)


@engagement_view()
def contract_diff(request, engagement, pk):
    layer = get_object_or_404(InterfaceLayer, engagement=engagement, pk=pk)
    old = selectors.diff_base(layer=layer)
    diff = layer_diff(old=old, new=layer)
    affected = affected_mappings(engagement, diff) if old else []
    diff.attach_affected(affected)
    context = engagement_context(
        request,
        engagement,
        layer=layer,
        old=old,
        diff=diff,
        has_provider=has_affected_mappings_provider(),
        affected=affected,
    )
    return render_page(request, "contracts/diff.html", context)


@require_POST
@engagement_view(Action.IMPORT_CONTRACT)
def contract_publish(request, engagement, pk):
    layer = get_object_or_404(InterfaceLayer, engagement=engagement, pk=pk)
    try:
        services.contract_publish(layer=layer, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Published {layer.name} {layer.version}.")
    return redirect("contract-overview", engagement.slug)


@require_POST
@engagement_view(Action.IMPORT_CONTRACT)
def contract_discard(request, engagement, pk):
    layer = get_object_or_404(InterfaceLayer, engagement=engagement, pk=pk)
    try:
        services.contract_discard(layer=layer, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Discarded the draft {layer.name} {layer.version}.")
    return redirect("contract-overview", engagement.slug)


@engagement_view(Action.EXPORT)
def contract_export(request, engagement, pk):
    layer = get_object_or_404(InterfaceLayer, engagement=engagement, pk=pk)
    response = HttpResponse(layer_to_yaml(layer), content_type="application/yaml; charset=utf-8")
    file_name = f"{slugify(layer.name)}-{slugify(layer.version)}.odcs.yaml"
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


# --- notes --------------------------------------------------------------------------------------


def _notes_fragment(request, engagement, entity_name, form=None):
    layer = selectors.current_layer(engagement=engagement)
    entity = get_object_or_404(InterfaceEntity, layer=layer, name=entity_name)
    attributes = list(entity.attributes.order_by("position").only("name"))
    notes = list(selectors.entity_notes(engagement=engagement, entity_name=entity_name))
    context = engagement_context(
        request, engagement, layer=layer, **_notes_context(entity, attributes, notes, form)
    )
    return render_page(
        request, "contracts/partials/notes.html", context, fragment="contracts/partials/notes.html"
    )


@require_POST
@engagement_view(Action.VIEW, write_action=Action.WRITE_NOTES)
def note_create(request, engagement):
    entity_name = request.POST.get("entity_name", "")
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_create(
                engagement=engagement, **form.cleaned_data, acting_user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, "Note saved.")
                return redirect("contract-entity", engagement.slug, entity_name)
            return _notes_fragment(request, engagement, entity_name)
    if request.htmx and entity_name:
        return _notes_fragment(request, engagement, entity_name, form=form)
    errors = [str(m) for messages_ in form.errors.values() for m in messages_]
    messages.error(request, " ".join(errors) or "The note could not be saved.")
    if not entity_name:
        return redirect("contract-overview", engagement.slug)
    return redirect("contract-entity", engagement.slug, entity_name)


@require_POST
@engagement_view(Action.VIEW, write_action=Action.WRITE_NOTES)
def note_edit(request, engagement, pk):
    note = get_object_or_404(InterfaceNote, engagement=engagement, pk=pk)
    form = NoteEditForm(request.POST)
    form.is_valid()
    try:
        if form.cleaned_data.get("delete"):
            services.note_delete(note=note, acting_user=request.user)
        else:
            services.note_update(
                note=note, text=form.cleaned_data.get("text", ""), acting_user=request.user
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return _notes_fragment(request, engagement, note.entity_name)
    return redirect("contract-entity", engagement.slug, note.entity_name)
