"""Pages of the generated ETL and its test runs: the overview (load order, artifacts download,
start a run, run history), a run's unit tests with failing samples and routing, the Unit Test
Package downloads. Views resolve, call a service or selector, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog.models import SourceSystem
from signoff.choices import UatClassification
from signoff.models import UatItem
from workbench.policy import Action
from workbench.web import add_service_errors, engagement_context, engagement_view, render_page

from ..etl.sql import DIALECTS
from ..selectors.etl import etl_overview, run_results
from ..services import etl as etl_services
from ..services import testrun as services
from ..testrun.choices import FailureRoute
from ..testrun.models import TestRun, UnitTestResult
from ..testrun.package import package_markdown, package_xlsx
from ..testrun.reconciliation import reconciliation_csv, reconciliation_markdown

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class TestRunForm(forms.Form):
    source_system = forms.ModelChoiceField(
        queryset=SourceSystem.objects.none(),
        required=False,
        empty_label="— a URL below —",
        help_text="The cataloged Mart (its stored password is used, never shown).",
    )
    source_url = forms.CharField(
        label="Source URL", required=False, help_text="Or a SQLAlchemy URL of the sample data."
    )
    source_schema = forms.CharField(required=False)
    target_url = forms.CharField(
        label="Target URL",
        help_text="SQLAlchemy URL where the interface tables are created (no password).",
    )
    target_schema = forms.CharField(required=False)

    def __init__(self, *args, engagement, **kwargs):
        super().__init__(*args, **kwargs)
        source_system = self.fields["source_system"]
        assert isinstance(source_system, forms.ModelChoiceField)
        source_system.queryset = SourceSystem.objects.filter(engagement=engagement).exclude(url="")


class RaiseUatForm(forms.Form):
    classification = forms.ChoiceField(choices=UatClassification.choices)


class RouteForm(forms.Form):
    route = forms.ChoiceField(choices=FailureRoute.choices)
    comments = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _overview(request, engagement, form, status=200):
    context = engagement_context(
        request, engagement, form=form, dialects=DIALECTS, **etl_overview(engagement=engagement)
    )
    return render_page(request, "exports/etl/overview.html", context, status=status)


@engagement_view(Action.VIEW, write_action=Action.RUN_ETL)
def etl_overview_page(request, engagement):
    if request.method == "POST":
        form = TestRunForm(request.POST, engagement=engagement)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = services.etl_run_start(
                    engagement=engagement,
                    source_system=data["source_system"],
                    source_url=data["source_url"],
                    source_schema=data["source_schema"],
                    target_url=data["target_url"],
                    target_schema=data["target_schema"],
                    acting_user=request.user,
                )
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(form, exc)
            else:
                return redirect("job-detail", engagement.slug, job.pk)
        return _overview(request, engagement, form, status=400)
    source = SourceSystem.objects.filter(engagement=engagement).exclude(url="").first()
    form = TestRunForm(
        engagement=engagement,
        initial={
            "source_system": source,
            "target_url": services.default_target_url(engagement),
        },
    )
    return _overview(request, engagement, form)


@engagement_view(Action.EXPORT)
def etl_download(request, engagement, dialect: str):
    try:
        content = etl_services.etl_generate_zip(
            engagement=engagement, dialect=dialect, acting_user=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("etl-overview", engagement.slug)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{engagement.slug}-etl-{dialect}.zip"'
    return response


def _run(engagement, pk) -> TestRun:
    run = get_object_or_404(TestRun.objects.filter(engagement=engagement), pk=pk)
    run.engagement = engagement  # the page's own, already loaded
    return run


@engagement_view(Action.VIEW)
def etl_run_page(request, engagement, pk: int):
    run = _run(engagement, pk)
    only_failing = request.GET.get("failing") == "1"
    results = run_results(run=run, only_failing=only_failing)
    _mark_raised(engagement, results["groups"])
    context = engagement_context(
        request,
        engagement,
        run=run,
        only_failing=only_failing,
        route_choices=FailureRoute.choices[1:],
        uat_choices=UatClassification.choices,
        **results,
    )
    return render_page(request, "exports/etl/run.html", context)


def _mark_raised(engagement, groups) -> None:
    """Each failing result learns its UAT item (if raised) and the classification to suggest, in
    one query."""
    failing = [r for results in groups.values() for r in results if not r.passed]
    raised = dict(
        UatItem.objects.filter(
            engagement=engagement, test_result_ref__in=[str(r.pk) for r in failing]
        ).values_list("test_result_ref", "pk")
    )
    for result in failing:
        result.uat_item_id = raised.get(str(result.pk))
        result.uat_suggested = services._default_classification(result)


@require_POST
@engagement_view(Action.VIEW, write_action=Action.RAISE_UAT_FEEDBACK)
def etl_result_raise_uat(request, engagement, pk: int, result_pk: int):
    run = _run(engagement, pk)
    result = get_object_or_404(UnitTestResult.objects.filter(run=run), pk=result_pk)
    back = reverse("etl-run", args=[engagement.slug, run.pk]) + f"#result-{result.pk}"
    form = RaiseUatForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Mapping change or ETL fix.")
        return redirect(back)
    try:
        item = services.test_result_raise_uat(
            result=result,
            classification=form.cleaned_data["classification"],
            acting_user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(
        request,
        f"Raised UAT item #{item.pk} on {item.target} ({item.get_classification_display()}) "
        f"from test #{result.pk}.",
    )
    return redirect("signoff-uat", engagement.slug)


@require_POST
@engagement_view(Action.VIEW, write_action=Action.RUN_ETL)
def etl_result_route(request, engagement, pk: int, result_pk: int):
    run = _run(engagement, pk)
    result = get_object_or_404(UnitTestResult.objects.filter(run=run), pk=result_pk)
    form = RouteForm(request.POST)
    if form.is_valid():
        try:
            services.unit_test_route(
                result=result,
                route=form.cleaned_data["route"],
                comments=form.cleaned_data["comments"],
                acting_user=request.user,
            )
            messages.success(
                request, f"{result.name}: {FailureRoute(form.cleaned_data['route']).label}."
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "Choose where the failure goes.")
    return redirect(reverse("etl-run", args=[engagement.slug, run.pk]) + f"#result-{result.pk}")


@engagement_view(Action.EXPORT)
def etl_run_package(request, engagement, pk: int, fmt: str):
    if fmt not in ("xlsx", "md"):
        raise Http404("The Unit Test Package is available as .xlsx or .md.")
    runs = TestRun.objects.filter(engagement=engagement).prefetch_related(
        Prefetch("results", queryset=UnitTestResult.objects.order_by("position"))
    )
    run = get_object_or_404(runs, pk=pk)
    name = f"{engagement.slug}-unit-test-package-run-{run.pk}"
    if fmt == "xlsx":
        response = HttpResponse(package_xlsx(run), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    else:
        response = HttpResponse(package_markdown(run), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.md"'
    return response


@engagement_view(Action.EXPORT)
def etl_run_reconciliation(request, engagement, pk: int, fmt: str):
    """The run's reconciliation report (cutover: "Validate first full run") as CSV or Markdown."""
    if fmt not in ("csv", "md"):
        raise Http404("The reconciliation report is available as .csv or .md.")
    run = _run(engagement, pk)
    if not run.reconciliation:
        raise Http404("This run has no reconciliation report (it stopped before its tests).")
    name = f"{engagement.slug}-reconciliation-run-{run.pk}"
    if fmt == "csv":
        response = HttpResponse(
            reconciliation_csv(run.reconciliation), content_type="text/csv; charset=utf-8"
        )
    else:
        title = f"Reconciliation of test run #{run.pk} — {engagement.name}"
        response = HttpResponse(
            reconciliation_markdown(run.reconciliation, title=title),
            content_type="text/markdown; charset=utf-8",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
