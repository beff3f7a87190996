"""The one permissions policy: which role may do what in an engagement.

Every place an action happens asks here — services (`check`), API and views (`can`, `check`),
CLI commands and tasks (through the services). Templates only hide what this already forbids.
Staff are treated as Implementation Leads of every engagement.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q

from .choices import CutoverStep, ReviewGate, Role, SignoffGate


class Action(StrEnum):
    VIEW = "view"  # read everything of the engagement
    EDIT_ENGAGEMENT = "edit_engagement"  # name, client, Mart name, status, phase
    MANAGE_MEMBERS = "manage_members"
    MANAGE_SIGNOFF_OWNERS = "manage_signoff_owners"
    EDIT_GLOSSARY = "edit_glossary"
    EDIT_LINKS = "edit_links"
    RUN_JOBS = "run_jobs"
    IMPORT_CONTRACT = "import_contract"  # import and publish Interface Layer versions
    WRITE_NOTES = "write_notes"  # interface and source understanding notes
    MANAGE_CATALOG = "manage_catalog"  # Mart connection, introspection, profiling, DDL import
    EDIT_MAPPING = "edit_mapping"
    COMMENT = "comment"
    GIVE_FEASIBILITY = "give_feasibility"
    REVIEW_MAPPING = "review_mapping"  # SME review state per attribute
    SUBMIT_FOR_REVIEW = "submit_for_review"
    DECIDE_REVIEW = "decide_review"  # approve/reject; gate ownership is checked on top
    RAISE_UAT_FEEDBACK = "raise_uat_feedback"
    RUN_ETL = "run_etl"  # generate ETL, run test runs
    TICK_CUTOVER = "tick_cutover"
    EXPORT = "export"


_EVERYONE = {Action.VIEW, Action.EXPORT}

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.IMPLEMENTATION_LEAD: frozenset(
        _EVERYONE
        | {
            Action.EDIT_ENGAGEMENT,
            Action.MANAGE_MEMBERS,
            Action.MANAGE_SIGNOFF_OWNERS,
            Action.EDIT_GLOSSARY,
            Action.EDIT_LINKS,
            Action.RUN_JOBS,
            Action.IMPORT_CONTRACT,
            Action.WRITE_NOTES,
            Action.COMMENT,
            Action.SUBMIT_FOR_REVIEW,
            Action.DECIDE_REVIEW,
            Action.TICK_CUTOVER,
        }
    ),
    Role.TECH_BA: frozenset(
        _EVERYONE
        | {
            Action.EDIT_GLOSSARY,
            Action.EDIT_LINKS,
            Action.RUN_JOBS,
            Action.IMPORT_CONTRACT,
            Action.WRITE_NOTES,
            Action.MANAGE_CATALOG,
            Action.EDIT_MAPPING,
            Action.COMMENT,
            Action.SUBMIT_FOR_REVIEW,
            Action.RAISE_UAT_FEEDBACK,
        }
    ),
    Role.ETL_DEVELOPER: frozenset(
        _EVERYONE
        | {
            Action.EDIT_LINKS,
            Action.RUN_JOBS,
            Action.WRITE_NOTES,
            Action.MANAGE_CATALOG,
            Action.COMMENT,
            Action.GIVE_FEASIBILITY,
            Action.RUN_ETL,
            Action.TICK_CUTOVER,
        }
    ),
    Role.CLIENT_SME: frozenset(
        _EVERYONE
        | {
            Action.EDIT_GLOSSARY,
            Action.COMMENT,
            Action.REVIEW_MAPPING,
            Action.DECIDE_REVIEW,
            Action.RAISE_UAT_FEEDBACK,
        }
    ),
    Role.CLIENT_OPS: frozenset(_EVERYONE | {Action.COMMENT, Action.TICK_CUTOVER}),
    Role.VIEWER: frozenset(_EVERYONE),
}

# Who decides each review gate: the named owner of a sign-off gate (on top of DECIDE_REVIEW not
# being needed: naming is the authority), or the members holding a decider role.
GATE_OWNER: dict[str, str | None] = {
    ReviewGate.MAPPING: SignoffGate.MAPPING,  # the named mapping sign-off owner (a Client SME)
    ReviewGate.UAT: SignoffGate.ETL,  # the named ETL sign-off owner
    ReviewGate.CUTOVER: None,
}
GATE_DECIDER_ROLES: dict[str, set[str] | None] = {
    ReviewGate.MAPPING: None,  # ownership decides
    ReviewGate.UAT: None,
    ReviewGate.CUTOVER: {Role.IMPLEMENTATION_LEAD},
}
# Which role may tick each cutover step (on top of TICK_CUTOVER).
CUTOVER_TICK_ROLES: dict[str, set[str]] = {
    CutoverStep.PIPELINES_DEPLOYED: {Role.ETL_DEVELOPER},
    CutoverStep.FIRST_RUN_VALIDATED: {Role.ETL_DEVELOPER},
    CutoverStep.SCHEDULE_CONFIRMED: {Role.CLIENT_OPS},
}

# Engagement-independent actions.
CREATE_ENGAGEMENT_PERMISSION = "workbench.add_engagement"


def role_of(user, engagement) -> str | None:
    """The user's role in the engagement (staff count as Implementation Lead), or None.

    Roles are cached on the user object for the request, so a page asking many times costs one query.
    """
    if not user or not user.is_authenticated:
        return None
    cache: dict[int, str | None] = user.__dict__.setdefault("_workbench_roles", {})
    if engagement.pk not in cache:
        role = engagement.memberships.filter(user=user).values_list("role", flat=True).first()
        if role is None and user.is_staff:
            role = Role.IMPLEMENTATION_LEAD
        cache[engagement.pk] = role
    return cache[engagement.pk]


def forget_roles(user) -> None:
    """Drop the cached roles after a membership change."""
    user.__dict__.pop("_workbench_roles", None)


def can(user, engagement, action: Action) -> bool:
    role = role_of(user, engagement)
    return role is not None and action in ROLE_ACTIONS[role]


def allowed_actions(user, engagement) -> frozenset[Action]:
    role = role_of(user, engagement)
    return ROLE_ACTIONS[role] if role else frozenset()


def check(user, engagement, action: Action) -> None:
    """Raise PermissionDenied unless `user` may do `action` in `engagement`."""
    if not can(user, engagement, action):
        raise PermissionDenied(
            f"Your role in {engagement.slug} does not allow this ({action.value.replace('_', ' ')}); "
            f"{who_may(action)}."
        )


def roles_allowed(action: Action) -> list[str]:
    """The roles holding `action`, in the order roles are listed."""
    return [role for role in Role.values if action in ROLE_ACTIONS[role]]


def who_may(action: Action) -> str:
    """Who may do `action`, for a refusal to name (e.g. "only an Implementation Lead may")."""
    roles = roles_allowed(action)
    if len(roles) == len(Role.values):
        return "any member may"
    labels = [Role(role).label for role in roles]
    listed = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"
    return f"only {'an' if listed[0] in 'AEIOU' else 'a'} {listed} may"


def can_create_engagement(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(CREATE_ENGAGEMENT_PERMISSION))


def check_create_engagement(user) -> None:
    if not can_create_engagement(user):
        raise PermissionDenied("You are not allowed to create engagements.")


# --- API tokens ----------------------------------------------------------------------------------


def can_manage_token(user, token) -> bool:
    """A token is its owner's to revoke; a superuser may revoke any (a leaked key, a leaver)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return token.user_id == user.pk or user.is_superuser


def check_manage_token(user, token) -> None:
    if not can_manage_token(user, token):
        raise PermissionDenied("You can manage only your own API tokens.")


def check_create_token(user) -> None:
    if not (user and user.is_authenticated and user.is_active):
        raise PermissionDenied("Only an active, signed-in user can create API tokens.")


# --- gates and cutover steps ---------------------------------------------------------------------


def _name(user) -> str:
    return user.get_full_name() or user.username


def _roles_label(roles: set[str]) -> str:
    return " or ".join(sorted(Role(r).label for r in roles))


def gate_owner(engagement, gate: str):
    """The user named to decide `gate`, or None when nobody is named or the gate goes by role."""
    from .models import SignoffOwner

    owner_gate = GATE_OWNER[gate]
    if owner_gate is None:
        return None
    owner = (
        SignoffOwner.objects.filter(engagement=engagement, gate=owner_gate)
        .select_related("user")
        .first()
    )
    return owner.user if owner else None


def gate_deciders(engagement, gate: str) -> list:
    """Who may decide `gate`: its named owner, or the members holding a decider role."""
    from .models import Membership

    if GATE_OWNER[gate] is not None:
        owner = gate_owner(engagement, gate)
        return [owner] if owner else []
    roles = GATE_DECIDER_ROLES[gate] or set()
    memberships = Membership.objects.filter(engagement=engagement, role__in=roles)
    return [m.user for m in memberships.select_related("user")]


def decidable_by(user) -> Q:
    """A filter over rows with `engagement` and `gate` (the reviews): the gates `user` may decide,
    as check_decide_gate rules, for listing them in SQL (the home's "waiting for you")."""
    from .models import Membership, SignoffOwner

    mine = Membership.objects.filter(engagement=OuterRef("engagement"), user=user)
    allowed = Q(pk__in=[])
    for gate, owner_gate in GATE_OWNER.items():
        if owner_gate is not None:
            decides = Exists(
                SignoffOwner.objects.filter(
                    engagement=OuterRef("engagement"), gate=owner_gate, user=user
                )
            )
        else:
            roles = {
                r
                for r in GATE_DECIDER_ROLES[gate] or set()
                if Action.DECIDE_REVIEW in ROLE_ACTIONS[r]
            }
            decides = Exists(mine.filter(role__in=roles))
        allowed |= Q(Q(gate=gate), decides)
    return Q(allowed, Exists(mine.exclude(role=Role.VIEWER)))


def check_decide_gate(user, engagement, gate: str) -> None:
    """Raise PermissionDenied unless `user` may decide reviews of `gate` in `engagement`."""
    check(user, engagement, Action.VIEW)
    role = role_of(user, engagement)
    gate = ReviewGate(gate)
    if role == Role.VIEWER:
        raise PermissionDenied(
            f"A Viewer never decides on a review; {_who_decides(engagement, gate)}."
        )
    if GATE_OWNER[gate] is not None:
        owner = gate_owner(engagement, gate)
        if owner is None:
            raise PermissionDenied(
                f"Nobody is named to give the {gate.label}: name its owner on the Sign-off "
                "owners page first."
            )
        if owner.pk != user.pk:
            raise PermissionDenied(
                f"Only {_name(owner)}, the named owner, decides the {gate.label}."
            )
        return
    allowed = GATE_DECIDER_ROLES[gate] or set()
    if role not in allowed or not can(user, engagement, Action.DECIDE_REVIEW):
        raise PermissionDenied(f"Only an {_roles_label(allowed)} decides the {gate.label}.")


def _who_decides(engagement, gate: ReviewGate) -> str:
    if GATE_OWNER[gate] is None:
        return f"only an {_roles_label(GATE_DECIDER_ROLES[gate] or set())} decides the {gate.label}"
    owner = gate_owner(engagement, gate)
    if owner is None:
        return f"the named owner decides the {gate.label} (nobody is named yet)"
    return f"{_name(owner)}, the named owner, decides the {gate.label}"


def can_tick_cutover(user, engagement, step: str) -> bool:
    return can(user, engagement, Action.TICK_CUTOVER) and (
        role_of(user, engagement) in CUTOVER_TICK_ROLES[CutoverStep(step)]
    )


def check_tick_cutover(user, engagement, step: str) -> None:
    """Raise PermissionDenied unless `user` may tick (or untick) cutover `step`."""
    check(user, engagement, Action.TICK_CUTOVER)
    roles = CUTOVER_TICK_ROLES[CutoverStep(step)]
    if role_of(user, engagement) not in roles:
        raise PermissionDenied(
            f"'{CutoverStep(step).label}' is ticked by the {_roles_label(roles)}."
        )
