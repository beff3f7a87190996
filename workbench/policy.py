"""The one permissions policy: which role may do what in an engagement.

Every place an action happens asks here — services (`check`), API and views (`can`, `check`),
CLI commands and tasks (through the services). Templates only hide what this already forbids.
Staff are treated as Implementation Leads of every engagement.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied

from .choices import Role


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
            f"Your role in {engagement.slug} does not allow this ({action.value.replace('_', ' ')})."
        )


def can_create_engagement(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(CREATE_ENGAGEMENT_PERMISSION))


def check_create_engagement(user) -> None:
    if not can_create_engagement(user):
        raise PermissionDenied("You are not allowed to create engagements.")
