"""Pages of the Mart catalog: source systems, the catalog browser, a table, the ERD and the Source
Understanding Notes. Each view resolves, calls a service or selector, renders."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from contracts.selectors import published_entity_names
from workbench.policy import Action
from workbench.web import add_service_errors, engagement_context, engagement_view, render_page

from . import selectors
from .choices import CatalogOrigin
from .forms import (
    CatalogImportForm,
    ColumnNoteForm,
    ImpactedEntityForm,
    ProfileForm,
    SourceSystemEditForm,
    SourceSystemForm,
    TableUnderstandingForm,
)
from .models import CatalogTable, ImpactedEntity, SourceSystem
from .services import sources as services
from .services.connection import display_url
from .services.ddl_import import catalog_import_csv, catalog_import_ddl

# --- source systems -------------------------------------------------------------------------


def _sources_page(request, engagement, *, form=None, import_form=None, status=200):
    sources = list(selectors.source_list(engagement=engagement))
    for source in sources:
        source.display_url = display_url(source) if source.url else ""
    context = engagement_context(
        request,
        engagement,
        sources=sources,
        form=form or SourceSystemForm(),
        import_form=import_form or CatalogImportForm(),
        profile_form=ProfileForm(),
    )
    return render_page(request, "catalog/sources.html", context, status=status)


@engagement_view(write_action=Action.MANAGE_CATALOG)
def source_list(request, engagement):
    if request.method != "POST":
        return _sources_page(request, engagement)
    form = SourceSystemForm(request.POST)
    if form.is_valid():
        try:
            source = services.source_system_create(
                engagement=engagement, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Source system “{source.name}” added. Test or introspect it."
            )
            return redirect("source-list", engagement.slug)
    return _sources_page(request, engagement, form=form, status=400)


@engagement_view(write_action=Action.MANAGE_CATALOG)
def source_edit(request, engagement, pk):
    source = get_object_or_404(SourceSystem, engagement=engagement, pk=pk)
    initial = {
        "name": source.name,
        "password_env": source.password_env,
        "schemas": ", ".join(source.schemas) or source.default_schema,
        "dialect": source.dialect,
    }
    form = SourceSystemEditForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if request.POST.get("delete"):
            services.source_system_delete(source=source, acting_user=request.user)
            messages.success(request, f"Source system “{source.name}” and its catalog deleted.")
            return redirect("source-list", engagement.slug)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "url" or v}
            try:
                services.source_system_update(source=source, data=data, acting_user=request.user)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Source system saved.")
                return redirect("source-list", engagement.slug)
    context = engagement_context(
        request,
        engagement,
        source=source,
        display_url=display_url(source) if source.url else "",
        form=form,
    )
    return render_page(request, "catalog/source_edit.html", context)


@engagement_view(Action.MANAGE_CATALOG)
@require_POST
def source_test(request, engagement, pk):
    source = get_object_or_404(SourceSystem, engagement=engagement, pk=pk)
    try:
        messages.success(
            request, services.source_system_test(source=source, acting_user=request.user)
        )
    except ValidationError as exc:
        messages.error(request, f"{source.name}: {' '.join(exc.messages)}")
    return redirect("source-list", engagement.slug)


@engagement_view(Action.MANAGE_CATALOG)
@require_POST
def source_introspect(request, engagement, pk):
    source = get_object_or_404(SourceSystem, engagement=engagement, pk=pk)
    try:
        job = services.introspection_start(source=source, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("source-list", engagement.slug)
    return redirect("job-detail", engagement.slug, job.pk)


@engagement_view(Action.MANAGE_CATALOG)
@require_POST
def source_profile(request, engagement, pk):
    source = get_object_or_404(SourceSystem, engagement=engagement, pk=pk)
    form = ProfileForm(request.POST)
    sample_rows = form.cleaned_data["sample_rows"] if form.is_valid() else None
    table_ids = [int(v) for v in request.POST.getlist("table") if v.isdigit()]
    try:
        job = services.profiling_start(
            source=source, acting_user=request.user, table_ids=table_ids, sample_rows=sample_rows
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("source-list", engagement.slug)
    return redirect("job-detail", engagement.slug, job.pk)


@engagement_view(Action.MANAGE_CATALOG)
@require_POST
def catalog_import(request, engagement):
    form = CatalogImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError({"file": "The file is not UTF-8 text."}) from None
            common = {
                "engagement": engagement,
                "source_name": form.cleaned_data["source_name"],
                "text": text,
                "acting_user": request.user,
            }
            if form.cleaned_data["format"] == CatalogOrigin.DDL:
                result = catalog_import_ddl(**common, dialect=form.cleaned_data["dialect"])
            else:
                result = catalog_import_csv(**common)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            ignored = result.get("ignored", "")
            ignored = f" {ignored[:1].upper()}{ignored[1:]}." if ignored else ""
            messages.success(
                request,
                f"Imported {result['tables']} tables, {result['columns']} columns, "
                f"{result['foreign_keys']} foreign keys.{ignored}",
            )
            return redirect("source-list", engagement.slug)
    return _sources_page(request, engagement, import_form=form, status=400)


# --- catalog browser, table, ERD ------------------------------------------------------------


@engagement_view()
def catalog(request, engagement):
    filterset, rows, cut = selectors.catalog_search(engagement=engagement, params=request.GET)
    context = engagement_context(
        request,
        engagement,
        filterset=filterset,
        rows=rows,
        cut=cut,
        limit=selectors.SEARCH_LIMIT,
        sources=selectors.source_list(engagement=engagement),
        subject_areas=selectors.subject_areas(engagement=engagement),
        tables=selectors.CatalogTableFilter(
            {
                "source": request.GET.get("source", ""),
                "subject_area": request.GET.get("subject_area", ""),
                "name": request.GET.get("table", ""),
            },
            queryset=selectors.catalog_tables(engagement=engagement),
        ).qs,
    )
    return render_page(
        request, "catalog/catalog.html", context, fragment="catalog/partials/catalog_results.html"
    )


def _table_page(request, engagement, table, *, form=None, impacted_form=None, status=200):
    initial = {f: getattr(table, f) for f in services.UNDERSTANDING_FIELDS}
    context = engagement_context(
        request,
        engagement,
        table=table,
        form=form or TableUnderstandingForm(initial=initial),
        impacted_form=impacted_form or ImpactedEntityForm(),
        subject_areas=selectors.subject_areas(engagement=engagement),
        entity_names=published_entity_names(engagement=engagement),
        **selectors.table_detail(table=table),
    )
    return render_page(request, "catalog/table_detail.html", context, status=status)


def _table(engagement, pk) -> CatalogTable:
    return get_object_or_404(
        CatalogTable.objects.select_related("source"), engagement=engagement, pk=pk
    )


@engagement_view(write_action=Action.WRITE_NOTES)
def catalog_table(request, engagement, pk):
    table = _table(engagement, pk)
    if request.method != "POST":
        return _table_page(request, engagement, table)
    form = TableUnderstandingForm(request.POST)
    if form.is_valid():
        try:
            services.table_understanding_update(
                table=table, data=form.cleaned_data, acting_user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Source understanding saved.")
            return redirect("catalog-table", engagement.slug, table.pk)
    return _table_page(request, engagement, table, form=form, status=400)


@engagement_view(Action.WRITE_NOTES)
@require_POST
def column_note(request, engagement, pk, column_pk):
    table = _table(engagement, pk)
    column = get_object_or_404(table.columns.select_related("table"), pk=column_pk)
    form = ColumnNoteForm(request.POST)
    if form.is_valid():
        services.column_notes_update(
            column=column, notes=form.cleaned_data["notes"], acting_user=request.user
        )
    if request.htmx:
        context = engagement_context(request, engagement, column=column, table=table, saved=True)
        return render_page(request, "catalog/partials/column_note.html", context)
    return redirect("catalog-table", engagement.slug, table.pk)


@engagement_view(Action.WRITE_NOTES)
@require_POST
def impacted_add(request, engagement, pk):
    table = _table(engagement, pk)
    form = ImpactedEntityForm(request.POST)
    if form.is_valid():
        try:
            services.impacted_entity_add(table=table, acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("catalog-table", engagement.slug, table.pk)
    return _table_page(request, engagement, table, impacted_form=form, status=400)


@engagement_view(Action.WRITE_NOTES)
@require_POST
def impacted_remove(request, engagement, pk, link_pk):
    table = _table(engagement, pk)
    link = get_object_or_404(ImpactedEntity, table=table, pk=link_pk)
    services.impacted_entity_remove(link=link, acting_user=request.user)
    return redirect("catalog-table", engagement.slug, table.pk)


@engagement_view()
def catalog_erd(request, engagement):
    source = None
    if request.GET.get("source", "").isdigit():
        source = get_object_or_404(SourceSystem, engagement=engagement, pk=request.GET["source"])
    graph = selectors.erd_graph(engagement=engagement, source=source)
    context = engagement_context(
        request,
        engagement,
        graph=graph,
        source=source,
        sources=selectors.source_list(engagement=engagement),
    )
    return render_page(request, "catalog/erd.html", context)


@engagement_view()
def source_understanding_notes(request, engagement):
    context = engagement_context(
        request,
        engagement,
        groups=selectors.source_notes(engagement=engagement),
        impacted=selectors.impacted_entity_summary(engagement=engagement),
        sources=selectors.source_list(engagement=engagement),
    )
    return render_page(request, "catalog/source_notes.html", context)
