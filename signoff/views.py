"""Pages of signoff: overview (gates, submit, changed since sign-off, sign-off table), a version
with its diff, a review with its decision, UAT feedback, the cutover checklist, the audit trail
(CSV too) and the inbox. Each view resolves, calls a service or a selector, renders."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from exports.selectors.etl import latest_reconciliation
from mappings.models import EntityMapping, MappingComment
from mappings.selectors.gap import gap_counts, gap_items, gap_rows
from workbench.models import Membership
from workbench.policy import Action
from workbench.web import add_service_errors, engagement_context, engagement_view, render_page

from . import selectors, services
from .choices import Gate
from .filters import AuditEventFilter
from .forms import DecideForm, ResolveForm, SubmitForm, TickForm, UatItemForm
from .models import AuditEvent, SpecVersion, UatItem


def _entity_names(engagement) -> list[str]:
    return list(
        EntityMapping.objects.filter(engagement=engagement)
        .order_by("entity_name")
        .values_list("entity_name", flat=True)
    )


def _error_message(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


@engagement_view(Action.VIEW, write_action=Action.SUBMIT_FOR_REVIEW)
def signoff_overview(request, engagement):
    form = SubmitForm(request.POST or None, entity_names=_entity_names(engagement))
    if request.method == "POST" and form.is_valid():
        try:
            review = services.do_submit_for_review(
                engagement=engagement,
                gate=form.cleaned_data["gate"],
                entities=form.cleaned_data["entities"],
                message=form.cleaned_data["message"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Version {review.version.number} submitted for the {review.get_gate_display()}.",
            )
            return redirect("signoff-review", engagement.slug, review.pk)
    reviews = list(selectors.review_list(engagement=engagement)[:50])
    gates = []
    for gate in Gate:
        latest = next((r for r in reviews if r.gate == gate and r.state != "cancelled"), None)
        deciders = services.gate_deciders(engagement, gate)
        gates.append({"gate": gate, "review": latest, "deciders": deciders})
    context = engagement_context(
        request,
        engagement,
        form=form,
        gates=gates,
        reviews=reviews,
        versions=list(selectors.version_list(engagement=engagement)[:50]),
        changed=selectors.changed_since_signoff(engagement=engagement, attributes=False),
        table=selectors.signoff_table(engagement=engagement),
    )
    return render_page(
        request, "signoff/overview.html", context, status=400 if form.errors else 200
    )


@engagement_view()
def signoff_version(request, engagement, number: int):
    version = get_object_or_404(SpecVersion, engagement=engagement, number=number)
    against_number = request.GET.get("against", "current")
    against = None
    if against_number != "current":
        if not against_number.isdigit():
            against_number = "current"
        else:
            against = get_object_or_404(
                SpecVersion, engagement=engagement, number=int(against_number)
            )
    changes = selectors.version_diff(version=version, against=against)
    snapshot = version.snapshot
    context = engagement_context(
        request,
        engagement,
        version=version,
        against=against,
        against_number=against_number,
        changes=changes,
        entities=[
            {"name": name, "data": data, "attribute_count": len(data.get("attributes", {}))}
            for name, data in sorted(snapshot.get("entities", {}).items())
        ],
        versions=list(selectors.version_list(engagement=engagement)),
        reviews=list(selectors.review_list(engagement=engagement).filter(version=version)),
    )
    return render_page(request, "signoff/version.html", context)


@engagement_view()
def signoff_review(request, engagement, pk: int):
    review = get_object_or_404(
        selectors.review_list(engagement=engagement).select_related("version__created_by"), pk=pk
    )
    form = DecideForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        form = DecideForm(request.POST)
        try:
            if action == "start":
                services.do_start_review(review=review, acting_user=request.user)
                messages.success(request, "Review started.")
            elif action == "cancel":
                services.do_cancel_review(review=review, acting_user=request.user)
                messages.success(request, "Review cancelled.")
            elif action == "decide" and form.is_valid():
                new_decision = services.do_decide(
                    review=review,
                    verdict=form.cleaned_data["verdict"],
                    comment=form.cleaned_data["comment"],
                    acting_user=request.user,
                )
                messages.success(
                    request,
                    f"{new_decision.get_verdict_display()}: version {review.version.number}.",
                )
            else:
                raise ValidationError("Choose approve, request changes, start or cancel.")
        except ValidationError as exc:
            add_service_errors(form, exc)
            status = 400
        else:
            return redirect("signoff-review", engagement.slug, review.pk)
        review = get_object_or_404(selectors.review_list(engagement=engagement), pk=pk)
    try:
        services.check_may_decide(review=review, acting_user=request.user)
        may_decide = True
    except PermissionDenied as exc:
        may_decide, why_not = False, str(exc)
    else:
        why_not = ""
    decision = next(iter(review.decisions.all()), None)
    # The same answer the Cover's stamp and sign-off table give (selectors.changed_versions).
    working_changed = review.version.pk in selectors.changed_versions(
        engagement=engagement, versions=[review.version]
    )
    context = engagement_context(
        request,
        engagement,
        review=review,
        decision=decision,
        form=form,
        may_decide=may_decide and review.is_open,
        why_not=why_not,
        may_cancel=review.is_open
        and (
            request.user.pk == review.requested_by_id
            or engagement_context(request, engagement)["role"] == "implementation_lead"
        ),
        approval=selectors.changes_to_approve(review=review),
        working_changed=working_changed,
        changes=selectors.version_diff(version=review.version) if working_changed else [],
        superseded_by=selectors.superseding_version(review.version),
        **_open_items(engagement, review.version.entities),
        events=list(review.events.select_related("actor").order_by("created_at", "id")),
    )
    return render_page(request, "signoff/review.html", context, status=status)


def _open_items(engagement, entities: list[str]) -> dict:
    """What is still open in the entities under review (all when the version froze all): the GAP
    items with the row that fixes each, and the unresolved comment threads."""
    items = gap_items(engagement=engagement)
    if entities:
        items = [i for i in items if i.entity in entities]
    where = gap_rows(engagement=engagement, items=items)
    threads = (
        MappingComment.objects.filter(engagement=engagement, parent__isnull=True, resolved=False)
        .select_related("entity_mapping", "attribute_mapping", "author")
        .annotate(reply_count=Count("replies"))
        .order_by("entity_mapping__entity_name", "created_at")
    )
    if entities:
        threads = threads.filter(entity_mapping__entity_name__in=entities)
    return {
        "gap": [{"item": i, "where": where.get((i.entity, i.attribute))} for i in items],
        "gap_counts": gap_counts(items),
        "threads": list(threads),
    }


@engagement_view(Action.VIEW, write_action=Action.RAISE_UAT_FEEDBACK)
def signoff_uat(request, engagement):
    members = list(
        Membership.objects.filter(engagement=engagement).select_related("user").order_by("role")
    )
    form = UatItemForm(
        request.POST or None, entity_names=_entity_names(engagement), members=members
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = services.do_raise_uat_item(
                engagement=engagement, data=form.cleaned_data, acting_user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"UAT item #{item.pk} raised on {item.target}.")
            return redirect("signoff-uat", engagement.slug)
    items = list(selectors.uat_items(engagement=engagement))
    context = engagement_context(
        request,
        engagement,
        form=form,
        items=items,
        open_count=sum(1 for i in items if i.state == "open"),
        resolve_form=ResolveForm(),
    )
    return render_page(request, "signoff/uat.html", context, status=400 if form.errors else 200)


@require_POST
@engagement_view()
def signoff_uat_move(request, engagement, pk: int, move: str):
    item = get_object_or_404(UatItem, engagement=engagement, pk=pk)
    try:
        if move == "resolve":
            services.do_resolve_uat_item(
                item=item, resolution=request.POST.get("resolution", ""), acting_user=request.user
            )
            messages.success(request, f"UAT item #{item.pk} resolved.")
        else:
            services.do_reopen_uat_item(item=item, acting_user=request.user)
            messages.success(request, f"UAT item #{item.pk} reopened.")
    except ValidationError as exc:
        messages.error(request, f"UAT item #{item.pk}: {_error_message(exc)}")
    return redirect("signoff-uat", engagement.slug)


@engagement_view()
def signoff_cutover(request, engagement):
    if request.method == "POST":
        form = TickForm(request.POST)
        if form.is_valid():
            try:
                step = form.cleaned_data["step"]
                if request.POST.get("action") == "untick":
                    services.do_untick_cutover(
                        engagement=engagement, step=step, acting_user=request.user
                    )
                else:
                    services.do_tick_cutover(
                        engagement=engagement,
                        step=step,
                        link=form.cleaned_data["link"],
                        note=form.cleaned_data["note"],
                        acting_user=request.user,
                    )
            except ValidationError as exc:
                messages.error(request, _error_message(exc))
            else:
                engagement.refresh_from_db()
                messages.success(request, "Checklist updated.")
        else:
            messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("signoff-cutover", engagement.slug)
    from workbench import policy

    items = selectors.cutover_checklist(engagement=engagement)
    rows = [
        {"item": item, "may_tick": policy.can_tick_cutover(request.user, engagement, item.step)}
        for item in items
    ]
    cutover_review = selectors.latest_review(engagement=engagement, gate=Gate.CUTOVER)
    reconciled = latest_reconciliation(engagement=engagement)
    context = engagement_context(
        request,
        engagement,
        rows=rows,
        reconciled_run=reconciled,
        reconciliation_url=(
            request.build_absolute_uri(
                reverse("etl-run", args=[engagement.slug, reconciled.pk]) + "#reconciliation"
            )
            if reconciled
            else ""
        ),
        ticked=sum(1 for i in items if i.ticked),
        total=len(items),
        cutover_review=cutover_review,
    )
    return render_page(request, "signoff/cutover.html", context)


AUDIT_CSV_HEADER = [
    "When",
    "Event",
    "Gate",
    "Actor",
    "Version",
    "Content hash",
    "From",
    "To",
    "Message",
]


@engagement_view()
def signoff_audit(request, engagement):
    events = AuditEvent.objects.filter(engagement=engagement).select_related("actor", "version")
    events = events.defer("version__snapshot").order_by("-created_at", "-id")
    filterset = AuditEventFilter(request.GET or None, queryset=events)
    events = filterset.qs if filterset.is_bound and filterset.is_valid() else events
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{engagement.slug}-signoff-audit.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(AUDIT_CSV_HEADER)
        for e in events:
            writer.writerow(
                [
                    e.created_at.isoformat(timespec="seconds"),
                    e.get_kind_display(),
                    e.get_gate_display() if e.gate else "",
                    e.actor.username if e.actor else "",
                    e.version.number if e.version else "",
                    e.content_hash,
                    e.from_state,
                    e.to_state,
                    e.message,
                ]
            )
        return response
    context = engagement_context(
        request,
        engagement,
        filterset=filterset,
        events=list(events[:500]),
        query=request.GET.urlencode(),
    )
    return render_page(request, "signoff/audit.html", context)
