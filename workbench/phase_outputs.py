"""States of the phase-1 outputs (and of being in production), shown on the dashboard."""

from __future__ import annotations

from django.urls import reverse

from .choices import EngagementStatus, LinkKind, Role, SignoffGate
from .models import GlossaryTerm, Membership, ReferenceLink, SignoffOwner
from .phases import OutputState, OutputStatus, by_engagement, phase_output, phase_statuses

KEY_ROLES = {Role.TECH_BA, Role.ETL_DEVELOPER, Role.CLIENT_SME}


def _url(name: str, engagement) -> str:
    return reverse(name, args=[engagement.slug])


@phase_output("members")
def members_state(engagement) -> OutputState:
    roles = list(engagement.memberships.values_list("role", flat=True))
    missing = KEY_ROLES - set(roles)
    status = OutputStatus.DONE if not missing else OutputStatus.IN_PROGRESS
    detail = f"{len(roles)} member{'s' if len(roles) != 1 else ''}"
    if missing:
        detail += "; missing " + ", ".join(sorted(Role(r).label for r in missing))
    return OutputState(status, detail, _url("member-list", engagement))


@phase_output("signoff_owners")
def signoff_owners_state(engagement) -> OutputState:
    named = set(engagement.signoff_owners.values_list("gate", flat=True))
    status = (
        OutputStatus.DONE
        if named == set(SignoffGate.values)
        else OutputStatus.IN_PROGRESS
        if named
        else OutputStatus.NOT_STARTED
    )
    return OutputState(
        status,
        f"{len(named)} of {len(SignoffGate.values)} named",
        _url("signoff-owners", engagement),
    )


@phase_output("glossary")
def glossary_state(engagement) -> OutputState:
    count = engagement.glossary.count()
    status = OutputStatus.DONE if count else OutputStatus.NOT_STARTED
    return OutputState(
        status, f"{count} term{'s' if count != 1 else ''}", _url("glossary", engagement)
    )


@phase_output("links")
def links_state(engagement) -> OutputState:
    kinds = set(engagement.links.values_list("kind", flat=True))
    wanted = {LinkKind.MART_DOCS, LinkKind.SAMPLE_DATA, LinkKind.INTERFACE_ERD}
    missing = wanted - kinds
    status = (
        OutputStatus.DONE
        if not missing
        else OutputStatus.IN_PROGRESS
        if kinds
        else OutputStatus.NOT_STARTED
    )
    detail = (
        "all kinds linked"
        if not missing
        else "missing " + ", ".join(sorted(LinkKind(k).label for k in missing))
    )
    return OutputState(status, detail, _url("links", engagement))


@phase_output("in_production")
def in_production_state(engagement) -> OutputState:
    if engagement.status == EngagementStatus.IN_PRODUCTION:
        return OutputState(OutputStatus.DONE, "live")
    return OutputState(OutputStatus.NOT_STARTED, engagement.get_status_display())


# --- the same statuses for many engagements at once (the engagement list) ----------------------

DONE, IN_PROGRESS, NOT_STARTED = (
    OutputStatus.DONE,
    OutputStatus.IN_PROGRESS,
    OutputStatus.NOT_STARTED,
)


def _values(model, engagements, field: str) -> dict[int, set]:
    rows = model.objects.filter(engagement__in=engagements).values_list("engagement_id", field)
    return {pk: set(values) for pk, values in by_engagement(rows).items()}


@phase_statuses("members")
def members_statuses(engagements) -> dict[int, OutputStatus]:
    roles = _values(Membership, engagements, "role")
    return {e.pk: DONE if roles.get(e.pk, set()) >= KEY_ROLES else IN_PROGRESS for e in engagements}


@phase_statuses("signoff_owners")
def signoff_owners_statuses(engagements) -> dict[int, OutputStatus]:
    named = _values(SignoffOwner, engagements, "gate")
    every = set(SignoffGate.values)
    return {
        e.pk: DONE if named.get(e.pk) == every else IN_PROGRESS if named.get(e.pk) else NOT_STARTED
        for e in engagements
    }


@phase_statuses("glossary")
def glossary_statuses(engagements) -> dict[int, OutputStatus]:
    terms = _values(GlossaryTerm, engagements, "pk")
    return {e.pk: DONE if terms.get(e.pk) else NOT_STARTED for e in engagements}


@phase_statuses("links")
def links_statuses(engagements) -> dict[int, OutputStatus]:
    kinds = _values(ReferenceLink, engagements, "kind")
    wanted = {LinkKind.MART_DOCS, LinkKind.SAMPLE_DATA, LinkKind.INTERFACE_ERD}
    return {
        e.pk: DONE
        if wanted <= kinds.get(e.pk, set())
        else IN_PROGRESS
        if kinds.get(e.pk)
        else NOT_STARTED
        for e in engagements
    }


@phase_statuses("in_production")
def in_production_statuses(engagements) -> dict[int, OutputStatus]:
    return {
        e.pk: DONE if e.status == EngagementStatus.IN_PRODUCTION else NOT_STARTED
        for e in engagements
    }
