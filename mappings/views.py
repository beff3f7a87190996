"""Pages of the mapping: coverage overview, the per-entity grid edited inline (HTMX), an
attribute's page (history, comments, feasibility, review, lineage) and the GAP.

Each view resolves the engagement and the row, calls a service or a selector, renders. The grid
rows are fragments: display, edit and suggestions swap in place; a save answers with the row.
"""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from workbench.policy import Action
from workbench.web import add_service_errors, engagement_context, engagement_view, render_page

from .choices import Feasibility, MappingStatus, SmeReview
from .compiled import compile_from_clause, compile_rule_context
from .forms import (
    AttributeMappingForm,
    CommentForm,
    EntityMappingForm,
    FeasibilityForm,
    GridFilterForm,
    ReviewForm,
)
from .hooks import approval_state
from .models import AttributeMapping, EntityMapping, MappingComment
from .selectors import mapping as selectors
from .selectors.gap import gap_counts, gap_items, gap_rows, gap_summary
from .selectors.suggestions import attribute_suggestions
from .services import mapping as services
from .services.mapping import MappingConflict

ENTITY_FORM_FIELDS = (
    "driving_table",
    "driving_alias",
    "joins",
    "filter",
    "frequency",
    "load_strategy",
    "watermark",
    "delete_condition",
    "status",
    "notes",
)
ATTRIBUTE_FORM_FIELDS = (
    "source_columns",
    "transformation",
    "default_value",
    "edge_cases",
    "notes",
    "status",
)


def _entity(engagement, pk) -> EntityMapping:
    return get_object_or_404(EntityMapping.objects.filter(engagement=engagement), pk=pk)


def _attribute(engagement, pk) -> AttributeMapping:
    return get_object_or_404(
        AttributeMapping.objects.filter(engagement=engagement).select_related(
            "entity_mapping", "updated_by"
        ),
        pk=pk,
    )


# --- overview -----------------------------------------------------------------------------------


OVERVIEW_PAGE_SIZE = 100  # entities, in load order; the counts above cover them all


@engagement_view()
def mapping_overview(request, engagement):
    coverage = selectors.coverage(engagement=engagement)
    order = selectors.contract_load_order(engagement=engagement)
    page = Paginator(coverage.rows, OVERVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    context = engagement_context(
        request,
        engagement,
        page=page,
        has_contract=coverage.unprepared is not None,
        unprepared=coverage.unprepared,
        cycle=order.cycle,
    )
    return render(request, "mappings/overview.html", context)


@engagement_view()
def mapping_gap_summary(request, engagement):
    """The GAP's counts by severity and the open threads: the overview asks for them once its
    coverage is on screen."""
    context = engagement_context(
        request,
        engagement,
        gap=gap_summary(gap_items(engagement=engagement)),
        open_comments=selectors.open_comment_count(engagement=engagement),
    )
    return render(request, "mappings/partials/gap_summary.html", context)


@engagement_view(write_action=Action.EDIT_MAPPING)
@require_POST
def mapping_prepare(request, engagement):
    try:
        created = services.mapping_prepare(engagement=engagement, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Prepared {created['entities']} entities and {created['attributes']} attributes.",
        )
    return redirect("mapping-overview", engagement.slug)


# --- an entity: its FROM clause and the grid -----------------------------------------------------


def _entity_form(entity: EntityMapping, data=None) -> EntityMappingForm:
    initial = {name: getattr(entity, name) for name in ENTITY_FORM_FIELDS}
    initial["row_version"] = entity.row_version
    return EntityMappingForm(data, initial=initial)


LINEAGE_LIMIT = 500  # attributes: a larger graph cannot be read on screen (nor drawn quickly)


def _grid_context(request, engagement, entity, *, with_rows=True, **extra) -> dict:
    """What the entity's page shows. The editing grid loads its rows from the API, so without
    `with_rows` (the server-rendered table's) the page reads only what the lineage draws."""
    # Its own ids: the entity form on the same page has a status field too.
    filters = GridFilterForm(request.GET or None, auto_id="filter-%s")
    status = problem = ""
    if filters.is_valid():
        status, problem = filters.cleaned_data["status"], filters.cleaned_data["problem"]
    approval = approval_state(engagement=engagement, entities=[entity.entity_name])
    rows = []
    if with_rows:
        rows = selectors.mapping_grid(
            entity_mapping=entity, status=status, problem=problem, approval=approval["attributes"]
        )
        drawn = [r.mapping for r in rows]
    else:
        drawn = list(entity.attributes.order_by("pk")[: LINEAGE_LIMIT + 1])
    compiled = compile_from_clause(entity_mapping=entity)
    alias_tables = compiled.alias_tables
    too_large = len(drawn) > LINEAGE_LIMIT
    return engagement_context(
        request,
        engagement,
        entity=entity,
        rows=rows,
        approval=approval["entities"].get(entity.entity_name),
        filters=filters,
        alias_tables=alias_tables,
        rules_dialect=compiled.dialect_label if entity.driving_table else "",
        lineage={} if too_large else selectors.lineage_graph(drawn, alias_tables),
        lineage_limit=LINEAGE_LIMIT if too_large else None,
        grid_choices=_grid_choices(),
        **extra,
    )


def _grid_choices() -> dict:
    """The values the grid's status, feasibility and review columns offer, with their labels."""
    return {
        "status": dict(MappingStatus.choices),
        "feasibility": dict(Feasibility.choices),
        "sme_review": dict(SmeReview.choices),
    }


@engagement_view()
def mapping_entity(request, engagement, pk):
    """The entity's FROM clause and its attributes in the editing grid (rows from the API);
    `?view=table` shows the server-rendered table with its one-row HTMX edit instead."""
    entity = _entity(engagement, pk)
    table_view = request.GET.get("view") == "table" or request.htmx
    context = _grid_context(
        request,
        engagement,
        entity,
        with_rows=table_view,
        table_view=table_view,
        form=_entity_form(entity),
        tables=selectors.catalog_table_names(engagement=engagement),
        comments=_threads(
            MappingComment.objects.filter(entity_mapping=entity, attribute_mapping__isnull=True)
        ),
        comment_form=CommentForm(),
    )
    return render_page(request, "mappings/entity.html", context, fragment="mappings/grid.html")


def _threads(comments):
    """Top-level comments with their replies and authors, in two queries."""
    return (
        comments.filter(parent__isnull=True)
        .select_related("author", "resolved_by")
        .prefetch_related("replies__author")
    )


@engagement_view(write_action=Action.EDIT_MAPPING)
@require_POST
def mapping_entity_save(request, engagement, pk):
    entity = _entity(engagement, pk)
    form = EntityMappingForm(request.POST)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "row_version"}
        try:
            entity = services.entity_mapping_update(
                entity_mapping=entity,
                data=data,
                row_version=form.cleaned_data["row_version"],
                acting_user=request.user,
            )
        except MappingConflict as conflict:
            form.add_error(None, str(conflict))
            form = _merge_current(form, conflict.current, ENTITY_FORM_FIELDS)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved the FROM clause of {entity.entity_name}.")
            return redirect("mapping-entity", engagement.slug, entity.pk)
    context = _grid_context(
        request,
        engagement,
        entity,
        form=form,
        tables=selectors.catalog_table_names(engagement=engagement),
    )
    return render(request, "mappings/entity.html", context, status=200)


def _merge_current(form, current, fields):
    """After a conflict: the form shows the current values and version, the user's input lost
    nothing — it is listed beside them in the message."""
    data = form.data.copy()
    mine = {name: data.get(name, "") for name in fields}
    for name in fields:
        data[name] = getattr(current, name)
    data["row_version"] = current.row_version
    merged = type(form)(data)
    merged.is_valid()
    merged.add_error(None, str(form.non_field_errors()[0]) if form.non_field_errors() else "")
    merged.conflict_mine = {
        k: v for k, v in mine.items() if v and str(v) != str(getattr(current, k))
    }
    return merged


# --- one grid row: display, edit, save, suggestions ---------------------------------------------


def _row(request, engagement, mapping: AttributeMapping, *, template="row", **extra):
    entity = mapping.entity_mapping
    approval = approval_state(engagement=engagement, entities=[entity.entity_name])["attributes"]
    rows = selectors.mapping_grid(entity_mapping=entity, approval=approval)
    row = next((r for r in rows if r.mapping.pk == mapping.pk), None)
    context = engagement_context(request, engagement, entity=entity, row=row, **extra)
    return render(request, f"mappings/partials/{template}.html", context)


@engagement_view()
def attribute_row(request, engagement, pk):
    return _row(request, engagement, _attribute(engagement, pk))


def _attribute_form(mapping: AttributeMapping, data=None) -> AttributeMappingForm:
    initial = {name: getattr(mapping, name) for name in ATTRIBUTE_FORM_FIELDS}
    initial.update(status="", row_version=mapping.row_version)
    return AttributeMappingForm(data, initial=initial)


@engagement_view(Action.EDIT_MAPPING)
def attribute_edit(request, engagement, pk):
    """GET: the row as a form. POST: save; the row again, or the form with what went wrong."""
    mapping = _attribute(engagement, pk)
    if request.method != "POST":
        return _row(
            request, engagement, mapping, template="row_edit", form=_attribute_form(mapping)
        )
    form = AttributeMappingForm(request.POST)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "row_version"}
        if not data["status"]:
            data.pop("status")
        try:
            mapping = services.attribute_mapping_update(
                attribute_mapping=mapping,
                data=data,
                row_version=form.cleaned_data["row_version"],
                acting_user=request.user,
            )
        except MappingConflict as conflict:
            form.add_error(None, str(conflict))
            form = _merge_current(form, conflict.current, ATTRIBUTE_FORM_FIELDS)
            mapping = conflict.current
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _row(request, engagement, mapping, saved=True)
    return _row(request, engagement, mapping, template="row_edit", form=form)


@engagement_view()
def attribute_suggestions_view(request, engagement, pk):
    mapping = _attribute(engagement, pk)
    return _row(
        request,
        engagement,
        mapping,
        template="suggestions",
        suggestions=attribute_suggestions(attribute_mapping=mapping, limit=5),
    )


@engagement_view()
def attribute_validate(request, engagement, pk):
    """Live validation while typing: the problems the rule would have, nothing saved."""
    mapping = _attribute(engagement, pk)
    checked, errors = compile_rule_context(attribute_mapping=mapping).compile_rule(
        attribute_name=mapping.attribute_name,
        source_columns=request.GET.get("source_columns", ""),
        transformation=request.GET.get("transformation", ""),
        default_value=request.GET.get("default_value", ""),
    )
    problems = [{"level": "error", "message": m} for ms in errors.values() for m in ms]
    if checked is not None and not errors:
        # with its place, as errors have it: a value warning points at the literal in the rule
        problems += [{"level": p.level, "message": str(p)} for p in checked.warnings]
    context = {"problems": problems, "checked": checked}
    return render(request, "mappings/partials/problems.html", context)


# --- an attribute's page -------------------------------------------------------------------------


def _history(mapping: AttributeMapping) -> list[dict]:
    """Each saved version with the fields it changed, newest first (one query)."""
    records = list(mapping.history.select_related("history_user").order_by("-history_date"))
    entries = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        changes = []
        if older is not None:
            delta = newer.diff_against(older, included_fields=list(HISTORY_FIELDS))
            changes = [(c.field.replace("_", " "), c.old, c.new) for c in delta.changes]
        entries.append({"record": newer, "changes": changes})
    return entries


HISTORY_FIELDS = (
    "source_columns",
    "transformation",
    "default_value",
    "edge_cases",
    "notes",
    "status",
    "feasibility",
    "sme_review",
)


@engagement_view()
def attribute_detail(request, engagement, pk):
    mapping = _attribute(engagement, pk)
    entity = mapping.entity_mapping
    contract = selectors.contract_attributes(engagement=engagement, entity_name=entity.entity_name)
    alias_tables = compile_from_clause(entity_mapping=entity).alias_tables
    comments = _threads(MappingComment.objects.filter(attribute_mapping=mapping))
    context = engagement_context(
        request,
        engagement,
        entity=entity,
        mapping=mapping,
        attribute=contract.get((entity.entity_name, mapping.attribute_name)),
        history=_history(mapping),
        comments=comments,
        comment_form=CommentForm(),
        feasibility_form=FeasibilityForm(
            initial={"verdict": mapping.feasibility, "comment": mapping.feasibility_comment}
        ),
        review_form=ReviewForm(initial={"state": mapping.sme_review}),
        lineage=selectors.lineage_graph([mapping], alias_tables),
    )
    return render(request, "mappings/attribute.html", context)


@engagement_view(write_action=Action.EDIT_MAPPING)
@require_POST
def attribute_revert(request, engagement, pk):
    mapping = _attribute(engagement, pk)
    try:
        services.attribute_mapping_revert(
            attribute_mapping=mapping,
            history_id=int(request.POST.get("history_id") or 0),
            row_version=int(request.POST.get("row_version") or 0) or None,
            acting_user=request.user,
        )
    except (MappingConflict, ValidationError) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, "Reverted to the chosen version.")
    return redirect("mapping-attribute", engagement.slug, mapping.pk)


def _message(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


@engagement_view(write_action=Action.GIVE_FEASIBILITY)
@require_POST
def feasibility(request, engagement, pk, kind):
    mapping = _entity(engagement, pk) if kind == "entity" else _attribute(engagement, pk)
    form = FeasibilityForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose a verdict.")
        services.feasibility_set(mapping=mapping, acting_user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, "Feasibility recorded.")
    return redirect(_back(engagement, mapping))


def _back(engagement, mapping) -> str:
    if isinstance(mapping, EntityMapping):
        return reverse("mapping-entity", args=[engagement.slug, mapping.pk])
    return reverse("mapping-attribute", args=[engagement.slug, mapping.pk])


@engagement_view(write_action=Action.REVIEW_MAPPING)
@require_POST
def review(request, engagement, pk):
    mapping = _attribute(engagement, pk)
    form = ReviewForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose a review state.")
        services.sme_review_set(
            attribute_mapping=mapping, acting_user=request.user, **form.cleaned_data
        )
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, "Review recorded.")
    return redirect(_back(engagement, mapping))


@engagement_view(write_action=Action.COMMENT)
@require_POST
def comment_create(request, engagement, pk, kind):
    mapping = _entity(engagement, pk) if kind == "entity" else _attribute(engagement, pk)
    form = CommentForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Write something.")
        parent = None
        if form.cleaned_data["parent"]:
            parent = get_object_or_404(
                MappingComment.objects.filter(engagement=engagement), pk=form.cleaned_data["parent"]
            )
        services.comment_add(
            mapping=mapping,
            text=form.cleaned_data["text"],
            kind=form.cleaned_data["kind"],
            parent=parent,
            acting_user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, _message(exc))
    return redirect(_back(engagement, mapping))


@engagement_view(write_action=Action.COMMENT)
@require_POST
def comment_resolve(request, engagement, pk):
    comment = get_object_or_404(MappingComment.objects.filter(engagement=engagement), pk=pk)
    try:
        services.comment_resolve(
            comment=comment, resolved=request.POST.get("reopen") is None, acting_user=request.user
        )
    except ValidationError as exc:
        messages.error(request, _message(exc))
    target = comment.attribute_mapping or comment.entity_mapping
    return redirect(_back(engagement, target))


# --- GAP --------------------------------------------------------------------------------------


GAP_PAGE_SIZE = 200  # the counts above the list cover every item; the CSV and workbook hold all


@engagement_view()
def gap(request, engagement):
    """The GAP document: every item with the row that fixes it, filtered by severity."""
    items = gap_items(engagement=engagement)
    severity = request.GET.get("severity", "")
    selected = [i for i in items if not severity or i.severity == severity]
    page = Paginator(selected, GAP_PAGE_SIZE).get_page(request.GET.get("page"))
    where = gap_rows(engagement=engagement, items=list(page.object_list))
    rows = [_gap_row(engagement, item, where.get((item.entity, item.attribute))) for item in page]
    context = engagement_context(
        request,
        engagement,
        rows=rows,
        grid_rows=[{**row["item"].as_dict(), "link": row["link"]} for row in rows],
        page=page,
        total=len(items),
        summary=gap_summary(items),
        counts=gap_counts(items),
        severity=severity,
        keep=urlencode({"severity": severity}) + "&" if severity else "",
        mapped_anything=AttributeMapping.objects.filter(engagement=engagement).exists(),
    )
    return render_page(request, "mappings/gap.html", context)


def _gap_row(engagement, item, where: tuple | None) -> dict:
    """A GAP item with the link to the row to fix: the attribute's row in its entity's grid, or
    the entity's page for an entity-level item."""
    link = ""
    if where:
        entity_pk, attribute_pk = where
        link = reverse("mapping-entity", args=[engagement.slug, entity_pk])
        if attribute_pk:
            link += f"#row-{attribute_pk}"
    return {"item": item, "link": link}


@engagement_view(Action.EXPORT)
def gap_csv(request, engagement):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Entity", "Attribute", "Category", "Issue", "Severity", "Suggested action"])
    for item in gap_items(engagement=engagement):
        row = [item.entity, item.attribute, item.category, item.issue, item.severity, item.action]
        writer.writerow([_csv_safe(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{engagement.slug}-gap.csv"'
    return response


def _csv_safe(value: str) -> str:
    """Text a spreadsheet would run as a formula is quoted (CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value
