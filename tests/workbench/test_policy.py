"""The role × action matrix of the engagement core, checked through the services themselves."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from tests.factories import (
    EngagementFactory,
    GlossaryTermFactory,
    ReferenceLinkFactory,
    UserFactory,
    member,
)
from workbench import policy, services
from workbench.choices import CutoverStep, EngagementStatus, ReviewGate, Role, SignoffGate
from workbench.policy import Action

LEAD, BA, ETL, SME, OPS, VIEWER = (
    Role.IMPLEMENTATION_LEAD,
    Role.TECH_BA,
    Role.ETL_DEVELOPER,
    Role.CLIENT_SME,
    Role.CLIENT_OPS,
    Role.VIEWER,
)
ALL_ROLES = {LEAD, BA, ETL, SME, OPS, VIEWER}

# Who may do what — the specification, written out by hand.
EXPECTED = {
    Action.VIEW: ALL_ROLES,
    Action.EXPORT: ALL_ROLES,
    Action.EDIT_ENGAGEMENT: {LEAD},
    Action.MANAGE_MEMBERS: {LEAD},
    Action.MANAGE_SIGNOFF_OWNERS: {LEAD},
    Action.EDIT_GLOSSARY: {LEAD, BA, SME},
    Action.EDIT_LINKS: {LEAD, BA, ETL},
    Action.RUN_JOBS: {LEAD, BA, ETL},
    Action.IMPORT_CONTRACT: {LEAD, BA},
    Action.WRITE_NOTES: {LEAD, BA, ETL},
    Action.MANAGE_CATALOG: {BA, ETL},
    Action.EDIT_MAPPING: {BA},
    Action.COMMENT: {LEAD, BA, ETL, SME, OPS},
    Action.GIVE_FEASIBILITY: {ETL},
    Action.REVIEW_MAPPING: {SME},
    Action.SUBMIT_FOR_REVIEW: {LEAD, BA},
    Action.DECIDE_REVIEW: {LEAD, SME},
    Action.RAISE_UAT_FEEDBACK: {BA, SME},
    Action.RUN_ETL: {ETL},
    Action.TICK_CUTOVER: {LEAD, ETL, OPS},
}


def test_the_matrix_covers_every_action():
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
@pytest.mark.parametrize("action", list(Action))
def test_policy_matches_the_matrix(engagement, role, action):
    user = member(engagement, role) if role != LEAD else engagement.created_by
    assert policy.can(user, engagement, action) == (role in EXPECTED[action])


def test_an_outsider_may_do_nothing(engagement, outsider):
    assert not any(policy.can(outsider, engagement, action) for action in Action)


def test_staff_act_as_implementation_leads(engagement, staff):
    assert policy.role_of(staff, engagement) == LEAD


def test_roles_are_looked_up_once_per_user_object(engagement, ba, django_assert_num_queries):
    policy.forget_roles(ba)
    with django_assert_num_queries(1):
        for action in Action:
            policy.can(ba, engagement, action)


# --- the same matrix, enforced by the services ----------------------------------------------


def _edit_engagement(engagement, user):
    services.engagement_update(engagement=engagement, data={"name": "Renamed"}, acting_user=user)


def _set_status(engagement, user):
    services.engagement_set_status(
        engagement=engagement, status=EngagementStatus.ON_HOLD, acting_user=user
    )


def _add_member(engagement, user):
    UserFactory(username="newcomer")
    services.membership_add(
        engagement=engagement, username="newcomer", role=VIEWER, acting_user=user
    )


def _name_owner(engagement, user):
    member(engagement, SME, "owner-sme")
    services.signoff_owner_set(
        engagement=engagement, gate=SignoffGate.MAPPING, username="owner-sme", acting_user=user
    )


def _add_term(engagement, user):
    services.glossary_term_create(
        engagement=engagement, data={"term": "Opt-in", "definition": "Consent."}, acting_user=user
    )


def _delete_term(engagement, user):
    services.glossary_term_delete(term=GlossaryTermFactory(engagement=engagement), acting_user=user)


def _add_link(engagement, user):
    services.link_create(
        engagement=engagement,
        data={"kind": "mart_docs", "title": "Dictionary", "url": "https://docs.example.test/"},
        acting_user=user,
    )


def _update_link(engagement, user):
    services.link_update(
        link=ReferenceLinkFactory(engagement=engagement), data={"title": "New"}, acting_user=user
    )


def _start_demo_job(engagement, user):
    services.demo_job_start(engagement=engagement, steps=1, pause=0, acting_user=user)


SERVICE_CASES = [
    (Action.EDIT_ENGAGEMENT, _edit_engagement),
    (Action.EDIT_ENGAGEMENT, _set_status),
    (Action.MANAGE_MEMBERS, _add_member),
    (Action.MANAGE_SIGNOFF_OWNERS, _name_owner),
    (Action.EDIT_GLOSSARY, _add_term),
    (Action.EDIT_GLOSSARY, _delete_term),
    (Action.EDIT_LINKS, _add_link),
    (Action.EDIT_LINKS, _update_link),
    (Action.RUN_JOBS, _start_demo_job),
]


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
@pytest.mark.parametrize(("action", "do"), SERVICE_CASES, ids=lambda v: getattr(v, "__name__", v))
def test_services_enforce_the_matrix(engagement, role, action, do):
    user = member(engagement, role) if role != LEAD else engagement.created_by
    if role in EXPECTED[action]:
        do(engagement, user)
    else:
        with pytest.raises(PermissionDenied, match="does not allow this"):
            do(engagement, user)


@pytest.mark.parametrize(("action", "do"), SERVICE_CASES, ids=lambda v: getattr(v, "__name__", v))
def test_services_refuse_outsiders(engagement, outsider, action, do):
    with pytest.raises(PermissionDenied):
        do(engagement, outsider)


# --- gates and cutover steps (moved from signoff into the one policy) -------------------------


def test_cutover_steps_are_ticked_by_their_roles_only(db):
    # Given an engagement with one member of each role
    engagement = EngagementFactory()
    users = {role: member(engagement, role, f"u-{role}") for role in Role.values}

    # Then each step is ticked exactly by the roles the policy names
    for step in CutoverStep.values:
        allowed = {r for r, u in users.items() if policy.can_tick_cutover(u, engagement, step)}
        assert allowed == policy.CUTOVER_TICK_ROLES[step]
    with pytest.raises(PermissionDenied) as denied:
        policy.check_tick_cutover(
            users[Role.ETL_DEVELOPER], engagement, CutoverStep.SCHEDULE_CONFIRMED
        )
    assert str(denied.value) == (
        "'Load schedule confirmed by Client Ops' is ticked by the Client Ops (L2)."
    )


def test_the_cutover_gate_is_decided_by_an_implementation_lead(db):
    engagement = EngagementFactory()
    lead = member(engagement, Role.IMPLEMENTATION_LEAD, "gate-lead")
    sme = member(engagement, Role.CLIENT_SME, "gate-sme")

    deciders = policy.gate_deciders(engagement, ReviewGate.CUTOVER)
    assert lead in deciders
    assert sme not in deciders
    policy.check_decide_gate(lead, engagement, ReviewGate.CUTOVER)
    with pytest.raises(PermissionDenied) as denied:
        policy.check_decide_gate(sme, engagement, ReviewGate.CUTOVER)
    assert str(denied.value) == "Only an Implementation Lead decides the Cutover."
    with pytest.raises(PermissionDenied) as denied:
        policy.check_decide_gate(sme, engagement, ReviewGate.MAPPING)
    assert str(denied.value) == (
        "Nobody is named to give the Mapping sign-off: name its owner on the Sign-off owners "
        "page first."
    )


def test_a_refusal_names_the_roles_that_may(engagement, viewer):
    """A Viewer trying to add members is told who may: the message is the next step."""
    with pytest.raises(PermissionDenied) as refused:
        policy.check(viewer, engagement, Action.MANAGE_MEMBERS)
    assert str(refused.value) == (
        "Your role in acme-360 does not allow this (manage members); "
        "only an Implementation Lead may."
    )
    assert policy.who_may(Action.MANAGE_CATALOG) == "only a Tech BA or ETL Developer may"
    assert policy.who_may(Action.VIEW) == "any member may"


def test_a_viewer_refused_a_gate_is_told_who_decides_it(engagement, viewer):
    with pytest.raises(PermissionDenied) as refused:
        policy.check_decide_gate(viewer, engagement, ReviewGate.CUTOVER)
    assert str(refused.value) == (
        "A Viewer never decides on a review; only an Implementation Lead decides the Cutover."
    )
    with pytest.raises(PermissionDenied) as refused:
        policy.check_decide_gate(viewer, engagement, ReviewGate.MAPPING)
    assert str(refused.value) == (
        "A Viewer never decides on a review; the named owner decides the Mapping sign-off "
        "(nobody is named yet)."
    )
