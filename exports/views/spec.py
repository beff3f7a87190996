"""Pages of the Master Mapping Specification: the deliverables page (export, import history, GAP
and KT documents), the import with its preview and accept/cancel, the export job's download, the
GAP document and the KT documentation site. Views resolve, call a service or selector, render."""

from __future__ import annotations

import io
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from mappings.models import AttributeMapping
from workbench.models import Job
from workbench.policy import Action
from workbench.web import add_service_errors, engagement_context, engagement_view, render_page

from ..choices import SpecImportState
from ..forms import SpecImportForm
from ..models import SpecImport
from ..services import spec as services
from ..spec.gap import write_gap
from ..spec.kt import kt_archive, kt_entities, pipeline_url
from ..tasks import spec_job_path

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Above this many attribute rows the page produces the workbook in a job with a progress bar.
DIRECT_EXPORT_LIMIT = 5000


def _attachment(content: bytes, file_name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@engagement_view(Action.VIEW)
def spec_home(request, engagement):
    rows = AttributeMapping.objects.filter(engagement=engagement).count()
    imports = SpecImport.objects.filter(engagement=engagement).select_related(
        "uploaded_by", "decided_by"
    )[:10]
    jobs = Job.objects.filter(engagement=engagement, kind=services.SPEC_EXPORT_JOB)[:5]
    context = engagement_context(
        request,
        engagement,
        rows=rows,
        direct=rows <= DIRECT_EXPORT_LIMIT,
        imports=imports,
        jobs=jobs,
        form=SpecImportForm(),
    )
    return render_page(request, "exports/spec/home.html", context)


@engagement_view(Action.EXPORT)
def spec_download(request, engagement):
    buffer = io.BytesIO()
    services.spec_export(engagement=engagement, acting_user=request.user, stream=buffer)
    return _attachment(buffer.getvalue(), services.spec_file_name(engagement), XLSX)


@require_POST
@engagement_view(Action.EXPORT)
def spec_export_start(request, engagement):
    job = services.spec_export_start(engagement=engagement, acting_user=request.user)
    return redirect("spec-job", engagement.slug, job.pk)


def _spec_job(engagement, pk) -> Job:
    return get_object_or_404(
        Job.objects.filter(engagement=engagement, kind=services.SPEC_EXPORT_JOB), pk=pk
    )


@engagement_view(Action.EXPORT)
def spec_job(request, engagement, pk):
    job = _spec_job(engagement, pk)
    context = engagement_context(request, engagement, job=job)
    return render_page(
        request, "exports/spec/job.html", context, fragment="exports/spec/partials/job.html"
    )


@engagement_view(Action.EXPORT)
def spec_job_download(request, engagement, pk):
    job = _spec_job(engagement, pk)
    path = spec_job_path(job)
    if not job.result or not Path(path).exists():
        raise Http404("This export has no workbook (it failed or is still running).")
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115 — FileResponse closes it
        as_attachment=True,
        filename=job.result.get("file_name") or path.name,
        content_type=XLSX,
    )


@engagement_view(Action.VIEW, write_action=Action.EDIT_MAPPING)
def spec_import(request, engagement):
    form = SpecImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                spec_import = services.spec_import_preview(
                    engagement=engagement,
                    file_name=upload.name,
                    content=upload.read(),
                    acting_user=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("spec-import-detail", engagement.slug, spec_import.pk)
        status = 400
    context = engagement_context(request, engagement, form=form)
    return render_page(request, "exports/spec/import.html", context, status=status)


def _import(engagement, pk) -> SpecImport:
    return get_object_or_404(
        SpecImport.objects.filter(engagement=engagement).select_related(
            "uploaded_by", "decided_by"
        ),
        pk=pk,
    )


@engagement_view(Action.VIEW)
def spec_import_detail(request, engagement, pk):
    spec_import = _import(engagement, pk)
    context = engagement_context(
        request,
        engagement,
        spec_import=spec_import,
        preview=spec_import.preview,
        open=spec_import.state == SpecImportState.PREVIEWED,
    )
    return render_page(request, "exports/spec/preview.html", context)


@require_POST
@engagement_view(Action.VIEW, write_action=Action.EDIT_MAPPING)
def spec_import_apply(request, engagement, pk):
    spec_import = _import(engagement, pk)
    try:
        spec_import = services.spec_import_apply(spec_import=spec_import, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Applied {spec_import.applied_count} changes "
            f"({spec_import.refused_count} conflicts refused).",
        )
    return redirect("spec-import-detail", engagement.slug, spec_import.pk)


@require_POST
@engagement_view(Action.VIEW, write_action=Action.EDIT_MAPPING)
def spec_import_cancel(request, engagement, pk):
    spec_import = _import(engagement, pk)
    try:
        services.spec_import_cancel(spec_import=spec_import, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Import cancelled; nothing was applied.")
    return redirect("spec-home", engagement.slug)


# --- the GAP document ----------------------------------------------------------------------------


@engagement_view(Action.VIEW)
def gap_document(request, engagement):
    """The GAP document is the one GAP page of the mapping (kept for links and bookmarks)."""
    return redirect("mapping-gap", engagement.slug)


@engagement_view(Action.EXPORT)
def gap_document_xlsx(request, engagement):
    buffer = io.BytesIO()
    write_gap(engagement=engagement, stream=buffer)
    return _attachment(buffer.getvalue(), f"{engagement.slug}-gap.xlsx", XLSX)


# --- the KT documentation ------------------------------------------------------------------------


def _kt_context(request, engagement, entities, **extra) -> dict:
    from django.urls import reverse

    for entity in entities:
        entity.url = reverse("kt-entity", args=[engagement.slug, entity.name])
    return engagement_context(
        request,
        engagement,
        entities=entities,
        archive=False,
        links={
            "index": reverse("kt-index", args=[engagement.slug]),
            "mapping": reverse("kt-mapping", args=[engagement.slug]),
            "troubleshooting": reverse("kt-troubleshooting", args=[engagement.slug]),
        },
        pipeline_url=pipeline_url(engagement.slug),
        **extra,
    )


@engagement_view(Action.VIEW)
def kt_index(request, engagement):
    entities = kt_entities(engagement=engagement)
    return render_page(request, "exports/kt/index.html", _kt_context(request, engagement, entities))


@engagement_view(Action.VIEW)
def kt_entity(request, engagement, name):
    entities = kt_entities(engagement=engagement)
    entity = next((e for e in entities if e.name == name), None)
    if entity is None:
        raise Http404("No such entity in the mapping.")
    context = _kt_context(request, engagement, entities, entity=entity)
    return render_page(request, "exports/kt/entity.html", context)


@engagement_view(Action.VIEW)
def kt_mapping(request, engagement):
    entities = kt_entities(engagement=engagement)
    return render_page(
        request, "exports/kt/mapping.html", _kt_context(request, engagement, entities)
    )


@engagement_view(Action.VIEW)
def kt_troubleshooting(request, engagement):
    entities = kt_entities(engagement=engagement)
    return render_page(
        request, "exports/kt/troubleshooting.html", _kt_context(request, engagement, entities)
    )


@engagement_view(Action.EXPORT)
def kt_download(request, engagement):
    user = request.user
    content = kt_archive(engagement=engagement, generated_by=user.get_full_name() or user.username)
    return _attachment(content, f"{engagement.slug}-kt.zip", "application/zip")
