"""Stories of the engagement core's services: what is saved, what is refused, what history says."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import GlossaryTermFactory, UserFactory, member
from workbench import services
from workbench.choices import EngagementStatus, Phase, Role, SignoffGate
from workbench.models import Engagement, GlossaryTerm, Membership, SignoffOwner


@pytest.fixture
def creator(db):
    user = UserFactory(username="creator")
    user.user_permissions.add(Permission.objects.get(codename="add_engagement"))
    return user


def test_creating_an_engagement_makes_the_creator_its_lead_with_history(creator):
    engagement = services.engagement_create(
        slug="acme-360", name="Acme 360", client="Acme", acting_user=creator
    )

    assert engagement.memberships.get().role == Role.IMPLEMENTATION_LEAD
    assert engagement.history.get().history_user == creator
    assert Membership.history.get().history_user == creator


def test_a_duplicate_slug_is_refused_and_nothing_is_saved(creator):
    services.engagement_create(slug="acme-360", name="Acme 360", acting_user=creator)

    with pytest.raises(ValidationError) as refused:
        services.engagement_create(slug="acme-360", name="Another", acting_user=creator)

    assert refused.value.message_dict == {"slug": ["Engagement with this Slug already exists."]}
    assert Engagement.objects.count() == 1
    assert Membership.objects.count() == 1


def test_a_user_without_the_permission_cannot_create_engagements(db):
    with pytest.raises(PermissionDenied, match="not allowed to create engagements"):
        services.engagement_create(slug="x", name="X", acting_user=UserFactory())
    assert not Engagement.objects.exists()


def test_adding_a_member_records_who_added_them(engagement, lead):
    UserFactory(username="bao")

    membership = services.membership_add(
        engagement=engagement, username="bao", role=Role.TECH_BA, acting_user=lead
    )

    assert membership.history.get().history_user == lead


def test_a_membership_for_an_unknown_user_is_refused(engagement, lead):
    with pytest.raises(ValidationError) as refused:
        services.membership_add(
            engagement=engagement, username="nobody", role=Role.TECH_BA, acting_user=lead
        )
    assert refused.value.message_dict == {"user": ["There is no active user named 'nobody'."]}
    assert engagement.memberships.count() == 1


def test_an_unknown_role_is_refused(engagement, lead):
    UserFactory(username="bao")
    with pytest.raises(ValidationError) as refused:
        services.membership_add(
            engagement=engagement, username="bao", role="wizard", acting_user=lead
        )
    assert "role" in refused.value.message_dict
    assert "is not a valid choice" in refused.value.message_dict["role"][0]
    assert engagement.memberships.count() == 1


def test_a_user_is_member_once(engagement, lead, ba):
    with pytest.raises(ValidationError, match="already a member of the engagement"):
        services.membership_add(
            engagement=engagement, username="ba", role=Role.VIEWER, acting_user=lead
        )
    assert engagement.memberships.get(user=ba).role == Role.TECH_BA


def test_the_last_lead_cannot_be_removed_or_demoted(engagement, lead):
    own = engagement.memberships.get(user=lead)
    with pytest.raises(ValidationError, match="at least one Implementation Lead"):
        services.membership_remove(membership=own, acting_user=lead)
    with pytest.raises(ValidationError, match="at least one Implementation Lead"):
        services.membership_change_role(membership=own, role=Role.VIEWER, acting_user=lead)
    own.refresh_from_db()
    assert own.role == Role.IMPLEMENTATION_LEAD


def test_changing_a_role_takes_effect_at_once(engagement, lead, ba):
    membership = engagement.memberships.get(user=ba)
    services.membership_change_role(membership=membership, role=Role.VIEWER, acting_user=lead)
    assert membership.history.first().role == Role.VIEWER
    with pytest.raises(PermissionDenied):
        services.glossary_term_create(
            engagement=engagement, data={"term": "T", "definition": "D"}, acting_user=ba
        )


def test_the_mapping_signoff_owner_must_be_a_client_sme(engagement, lead, ba, sme):
    with pytest.raises(ValidationError) as refused:
        services.signoff_owner_set(
            engagement=engagement, gate=SignoffGate.MAPPING, username="ba", acting_user=lead
        )
    assert refused.value.message_dict["user"] == [
        "The Mapping sign-off owner must be a member with the role Client SME; ba is Tech BA."
    ]

    owner = services.signoff_owner_set(
        engagement=engagement, gate=SignoffGate.MAPPING, username="sme", acting_user=lead
    )
    assert owner.user == sme
    assert SignoffOwner.objects.count() == 1


def test_naming_a_new_owner_replaces_the_old_one(engagement, lead, sme):
    other = member(engagement, Role.CLIENT_SME, "sme2")
    services.signoff_owner_set(
        engagement=engagement, gate=SignoffGate.MAPPING, username="sme", acting_user=lead
    )
    services.signoff_owner_set(
        engagement=engagement, gate=SignoffGate.MAPPING, username="sme2", acting_user=lead
    )
    owner = SignoffOwner.objects.get()
    assert owner.user == other
    assert [h.user for h in owner.history.order_by("history_date")] == [sme, other]


def test_an_owner_cannot_be_removed_or_moved_to_an_ineligible_role(engagement, lead, sme):
    services.signoff_owner_set(
        engagement=engagement, gate=SignoffGate.MAPPING, username="sme", acting_user=lead
    )
    membership = engagement.memberships.get(user=sme)
    with pytest.raises(ValidationError, match="name another owner first"):
        services.membership_remove(membership=membership, acting_user=lead)
    with pytest.raises(ValidationError, match="owns the Mapping sign-off"):
        services.membership_change_role(membership=membership, role=Role.VIEWER, acting_user=lead)
    membership.refresh_from_db()
    assert membership.role == Role.CLIENT_SME


def test_an_outsider_cannot_be_named_owner(engagement, lead, outsider):
    with pytest.raises(ValidationError, match="outsider is not a member"):
        services.signoff_owner_set(
            engagement=engagement, gate=SignoffGate.ETL, username="outsider", acting_user=lead
        )


def test_status_moves_only_along_the_allowed_paths(engagement, lead):
    services.engagement_set_status(
        engagement=engagement, status=EngagementStatus.CLOSED, acting_user=lead
    )
    with pytest.raises(ValidationError) as refused:
        services.engagement_set_status(
            engagement=engagement, status=EngagementStatus.ACTIVE, acting_user=lead
        )
    assert refused.value.message_dict["status"] == [
        "An engagement cannot move from Closed to Active."
    ]
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.CLOSED


def test_phase_must_be_one_of_the_six(engagement, lead):
    services.engagement_set_phase(
        engagement=engagement, phase=Phase.SOURCE_UNDERSTANDING, acting_user=lead
    )
    with pytest.raises(ValidationError, match="Unknown phase '9'"):
        services.engagement_set_phase(engagement=engagement, phase=9, acting_user=lead)
    engagement.refresh_from_db()
    assert engagement.current_phase == Phase.SOURCE_UNDERSTANDING


def test_only_editable_fields_can_be_changed(engagement, lead):
    with pytest.raises(ValidationError) as refused:
        services.engagement_update(engagement=engagement, data={"slug": "x"}, acting_user=lead)
    assert refused.value.message_dict == {"slug": ["This field cannot be changed here."]}


def test_glossary_terms_are_unique_per_engagement(engagement, ba):
    GlossaryTermFactory(engagement=engagement, term="Customer")
    with pytest.raises(ValidationError) as refused:
        services.glossary_term_create(
            engagement=engagement, data={"term": "Customer", "definition": "x"}, acting_user=ba
        )
    assert refused.value.messages == ["This term is already in the glossary."]
    assert GlossaryTerm.objects.filter(engagement=engagement).count() == 1


def test_glossary_text_that_looks_like_sql_is_stored_as_text(engagement, ba):
    text = "'; DROP TABLE workbench_engagement; --"
    term = services.glossary_term_create(
        engagement=engagement, data={"term": text, "definition": text}, acting_user=ba
    )
    term.refresh_from_db()
    assert term.definition == text
    assert Engagement.objects.filter(pk=engagement.pk).exists()


def test_deleting_a_term_keeps_its_history(engagement, ba):
    term = GlossaryTermFactory(engagement=engagement)
    services.glossary_term_delete(term=term, acting_user=ba)
    deletion = GlossaryTerm.history.filter(history_type="-").get()
    assert deletion.history_user == ba


def test_a_link_needs_a_valid_url(engagement, ba):
    with pytest.raises(ValidationError) as refused:
        services.link_create(
            engagement=engagement,
            data={"kind": "mart_docs", "title": "Docs", "url": "not a url"},
            acting_user=ba,
        )
    assert refused.value.message_dict == {"url": ["Enter a valid URL."]}
    assert not engagement.links.exists()
