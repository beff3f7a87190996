"""Pages of the engagement core: list, dashboard, settings, members, sign-off owners, glossary,
links and jobs. Each view resolves the engagement, calls a service, renders; nothing more."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import model_to_dict
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from . import policy, selectors, services
from .forms import (
    ApiTokenForm,
    DemoJobForm,
    EngagementCreateForm,
    EngagementEditForm,
    GlossaryTermForm,
    MembershipAddForm,
    MembershipInviteForm,
    MembershipRoleForm,
    ReferenceLinkForm,
    SignoffOwnerForm,
)
from .jobs import job_next_step, job_outcome, job_titles
from .models import ApiToken, Job, Notification
from .phases import current_phase, phase_cards
from .policy import Action
from .waiting import waiting_for
from .web import add_service_errors, engagement_context, engagement_view, render_page


@login_required
def engagement_list(request):
    return render(
        request,
        "workbench/engagement_list.html",
        {
            "engagements": selectors.with_current_phase(
                selectors.engagement_list(user=request.user)
            ),
            "can_create": policy.can_create_engagement(request.user),
            "waiting": waiting_for(user=request.user),
        },
    )


@login_required
def engagement_create(request):
    policy.check_create_engagement(request.user)
    form = EngagementCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            engagement = services.engagement_create(**form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Engagement “{engagement.name}” created.")
            return redirect("engagement-dashboard", engagement.slug)
    return render(request, "workbench/engagement_create.html", {"form": form})


@engagement_view()
def engagement_dashboard(request, engagement):
    jobs = list(selectors.engagement_jobs(engagement=engagement, limit=5))
    job_titles(jobs)
    cards = phase_cards(engagement)
    context = engagement_context(
        request,
        engagement,
        phases=cards,
        phase=current_phase(engagement, cards),
        members=selectors.engagement_members(engagement=engagement),
        owners=engagement.signoff_owners.select_related("user"),
        jobs=jobs,
    )
    return render(request, "workbench/dashboard.html", context)


@engagement_view(Action.EDIT_ENGAGEMENT)
def engagement_settings(request, engagement):
    initial = {f: getattr(engagement, f) for f in ("name", "client", "mart_name", "description")}
    initial["status"] = engagement.status
    overridden_phase = engagement.current_phase if engagement.phase_overridden else None
    initial["current_phase"] = overridden_phase
    form = EngagementEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        status, phase = data.pop("status"), data.pop("current_phase")
        try:
            services.engagement_update(engagement=engagement, data=data, acting_user=request.user)
            if status != engagement.status:
                services.engagement_set_status(
                    engagement=engagement, status=status, acting_user=request.user
                )
            if phase != overridden_phase:
                services.engagement_set_phase(
                    engagement=engagement, phase=phase, acting_user=request.user
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
            engagement.refresh_from_db()
        else:
            messages.success(request, "Engagement saved.")
            return redirect("engagement-dashboard", engagement.slug)
    return render(
        request,
        "workbench/engagement_settings.html",
        engagement_context(request, engagement, form=form),
    )


# --- members -------------------------------------------------------------------------------


def _members_page(request, engagement, form=None, invite_form=None):
    form = form or MembershipAddForm()
    form.fields["username"].widget.attrs["hx-get"] = reverse(
        "member-candidates", args=[engagement.slug]
    )
    context = engagement_context(
        request,
        engagement,
        members=selectors.engagement_members(engagement=engagement),
        form=form,
        invite_form=invite_form or MembershipInviteForm(),
        role_form=MembershipRoleForm(),
    )
    return render_page(
        request, "workbench/members.html", context, fragment="workbench/partials/members.html"
    )


@engagement_view(write_action=Action.MANAGE_MEMBERS)
def member_list(request, engagement):
    """Members; a POST adds a user who has an account, or with `invite` creates and invites one."""
    form = invite_form = None
    if request.method == "POST" and "invite" in request.POST:
        invite_form = MembershipInviteForm(request.POST)
        if invite_form.is_valid():
            try:
                membership = services.membership_invite(
                    engagement=engagement, acting_user=request.user, **invite_form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(invite_form, exc)
            else:
                invite_form = None
                messages.success(
                    request,
                    f"{membership.user.get_full_name()} added as {membership.user.username}; "
                    f"a link to set a password went to {membership.user.email}.",
                )
    elif request.method == "POST":
        form = MembershipAddForm(request.POST)
        if form.is_valid():
            try:
                services.membership_add(
                    engagement=engagement, acting_user=request.user, **form.cleaned_data
                )
                form = None
            except ValidationError as exc:
                add_service_errors(form, exc)
    return _members_page(request, engagement, form, invite_form)


@engagement_view(Action.MANAGE_MEMBERS)
def member_candidates(request, engagement):
    """The picker's suggestions: a few users matching what was typed, as datalist options."""
    query = request.GET.get("username", "")[:150]
    users = selectors.member_candidates(engagement=engagement, query=query)
    return render(request, "workbench/partials/member_candidates.html", {"users": users})


@engagement_view(write_action=Action.MANAGE_MEMBERS)
@require_POST
def member_change(request, engagement, pk):
    membership = get_object_or_404(engagement.memberships, pk=pk)
    try:
        if request.POST.get("remove"):
            services.membership_remove(membership=membership, acting_user=request.user)
        elif request.POST.get("resend"):
            services.membership_resend_invitation(membership=membership, acting_user=request.user)
            messages.success(
                request, f"A new link to set a password went to {membership.user.email}."
            )
        else:
            form = MembershipRoleForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"role": form.errors.get("role", ["Choose a role."])})
            services.membership_change_role(
                membership=membership, role=form.cleaned_data["role"], acting_user=request.user
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return _members_page(request, engagement)
    return redirect("member-list", engagement.slug)


# --- sign-off owners -----------------------------------------------------------------------


@engagement_view(write_action=Action.MANAGE_SIGNOFF_OWNERS)
def signoff_owners(request, engagement):
    members = selectors.engagement_members(engagement=engagement)
    form = SignoffOwnerForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid():
        try:
            services.signoff_owner_set(
                engagement=engagement, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Sign-off owner named.")
            return redirect("signoff-owners", engagement.slug)
    context = engagement_context(
        request, engagement, owners=engagement.signoff_owners.select_related("user"), form=form
    )
    return render(request, "workbench/signoff_owners.html", context)


# --- glossary and links: a list with an add form, an edit page, a delete button ------------


def _collection_page(request, engagement, *, kind: str, form=None):
    spec = COLLECTIONS[kind]
    context = engagement_context(
        request,
        engagement,
        items=getattr(engagement, spec.related).all(),
        form=form or spec.form(),
        kind=kind,
    )
    return render_page(
        request,
        f"workbench/{kind}.html",
        context,
        fragment=f"workbench/partials/{kind}.html",
    )


def _collection_list(request, engagement, kind: str):
    spec = COLLECTIONS[kind]
    form = None
    if request.method == "POST":
        form = spec.form(request.POST)
        if form.is_valid():
            try:
                spec.create(engagement=engagement, data=form.cleaned_data, acting_user=request.user)
                form = None
            except ValidationError as exc:
                add_service_errors(form, exc)
    return _collection_page(request, engagement, kind=kind, form=form)


def _collection_edit(request, engagement, kind: str, pk: int):
    spec = COLLECTIONS[kind]
    item = get_object_or_404(getattr(engagement, spec.related), pk=pk)
    if request.method == "POST" and request.POST.get("delete"):
        spec.delete(**{spec.arg: item}, acting_user=request.user)
        if request.htmx:
            return _collection_page(request, engagement, kind=kind)
        return redirect(kind, engagement.slug)
    # No `instance=`: a ModelForm would write the input onto `item` before the service compares.
    form = spec.form(request.POST or None, initial=model_to_dict(item))
    if request.method == "POST" and form.is_valid():
        try:
            spec.update(**{spec.arg: item}, data=form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(kind, engagement.slug)
    context = engagement_context(request, engagement, form=form, item=item, kind=kind)
    return render(request, "workbench/collection_edit.html", context)


@dataclass(frozen=True)
class Collection:
    """A list of an engagement's items edited on one page: its form and its three services."""

    related: str  # the engagement's related manager
    form: type[forms.ModelForm]
    arg: str  # the keyword the update and delete services take the item by
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]


COLLECTIONS = {
    "glossary": Collection(
        related="glossary",
        form=GlossaryTermForm,
        arg="term",
        create=services.glossary_term_create,
        update=services.glossary_term_update,
        delete=services.glossary_term_delete,
    ),
    "links": Collection(
        related="links",
        form=ReferenceLinkForm,
        arg="link",
        create=services.link_create,
        update=services.link_update,
        delete=services.link_delete,
    ),
}


@engagement_view(write_action=Action.EDIT_GLOSSARY)
def glossary(request, engagement):
    return _collection_list(request, engagement, "glossary")


@engagement_view(write_action=Action.EDIT_GLOSSARY)
def glossary_edit(request, engagement, pk):
    return _collection_edit(request, engagement, "glossary", pk)


@engagement_view(write_action=Action.EDIT_LINKS)
def links(request, engagement):
    return _collection_list(request, engagement, "links")


@engagement_view(write_action=Action.EDIT_LINKS)
def link_edit(request, engagement, pk):
    return _collection_edit(request, engagement, "links", pk)


# --- jobs ----------------------------------------------------------------------------------


@engagement_view(write_action=Action.RUN_JOBS)
def job_list(request, engagement):
    demo = services.demo_job_enabled()
    if request.method == "POST" and not demo:
        raise Http404("The demo job runs only in development.")
    form = DemoJobForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        job = services.demo_job_start(
            engagement=engagement, steps=form.cleaned_data["steps"], acting_user=request.user
        )
        return redirect("job-detail", engagement.slug, job.pk)
    jobs = list(selectors.engagement_jobs(engagement=engagement))
    job_titles(jobs)
    context = engagement_context(request, engagement, jobs=jobs, form=form if demo else None)
    return render(request, "workbench/jobs.html", context)


@engagement_view()
def job_detail(request, engagement, pk):
    job = get_object_or_404(
        Job.objects.filter(engagement=engagement).select_related("started_by"), pk=pk
    )
    job_titles([job])
    context = engagement_context(
        request, engagement, job=job, outcome=job_outcome(job), next_step=job_next_step(job)
    )
    return render_page(
        request,
        "workbench/job_detail.html",
        context,
        fragment="workbench/partials/job_progress.html",
    )


@engagement_view()
def inbox(request, engagement):
    """The user's inbox (every engagement's lines); open or mark one read, or all."""
    if request.method == "POST":
        pk = request.POST.get("notification", "")
        if pk.isdigit():
            note = get_object_or_404(Notification, pk=int(pk), recipient=request.user)
            services.notification_mark_read(notification=note, acting_user=request.user)
            if note.url and request.POST.get("open"):
                return redirect(note.url)
        else:
            services.notification_mark_all_read(acting_user=request.user)
        return redirect("signoff-inbox", engagement.slug)
    notes = list(selectors.inbox(user=request.user)[:200])
    context = engagement_context(
        request, engagement, notes=notes, unread=sum(1 for n in notes if n.unread)
    )
    return render_page(request, "workbench/inbox.html", context)


@login_required
def api_token_list(request):
    """The user's API tokens; a POST creates one and shows its key this once."""
    form = ApiTokenForm(request.POST or None)
    new_key = ""
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = services.token_create(**form.cleaned_data, acting_user=request.user)
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Token “{token.name}” created.")
            form = ApiTokenForm()
    context = {"form": form, "tokens": selectors.api_tokens(user=request.user), "new_key": new_key}
    response = render(request, "workbench/api_tokens.html", context)
    if new_key:
        response["Cache-Control"] = "no-store"  # the key must not stay in any cache
    return response


@login_required
@require_POST
def api_token_revoke(request, pk):
    token = get_object_or_404(ApiToken.objects.restrict(request.user), pk=pk)
    services.token_revoke(token=token, acting_user=request.user)
    messages.success(request, f"Token “{token.name}” revoked; it no longer opens the API.")
    return redirect("api-token-list")


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Where an invited person chooses their password: Django's token checks the link (it works
    once, since the token depends on the password, and expires after PASSWORD_RESET_TIMEOUT)."""

    template_name = "workbench/password_set.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        messages.success(self.request, "Your password is set; log in with it.")
        return super().form_valid(form)


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
