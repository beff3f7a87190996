"""API serializers of the engagement core. They shape data; the services validate and save."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workbench.choices import EngagementStatus, LinkKind, Phase, Role, SignoffGate
from workbench.models import (
    Engagement,
    GlossaryTerm,
    Job,
    Membership,
    Notification,
    ReferenceLink,
    SignoffOwner,
)
from workbench.phases import CurrentPhase, current_phases


class EngagementSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    # As the dashboard shows it: derived from the phase outputs unless a Lead set it by hand.
    current_phase = serializers.SerializerMethodField()
    derived_phase = serializers.SerializerMethodField()
    phase_overridden = serializers.BooleanField(read_only=True)

    class Meta:
        model = Engagement
        fields = [
            "slug",
            "name",
            "client",
            "mart_name",
            "description",
            "status",
            "current_phase",
            "derived_phase",
            "phase_overridden",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["status", "created_by", "created_at"]
        # Uniqueness is checked by the service, which answers with the model's own message.
        extra_kwargs: dict[str, dict] = {"slug": {"validators": []}}

    @staticmethod
    def _phase(engagement: Engagement) -> CurrentPhase:
        """A list page has its phases attached in bulk; one engagement computes its own."""
        if not hasattr(engagement, "phase"):
            engagement.phase = current_phases([engagement])[engagement.pk]  # type: ignore[attr-defined]
        return engagement.phase  # type: ignore[attr-defined]

    @extend_schema_field(serializers.ChoiceField(choices=Phase.choices))
    def get_current_phase(self, engagement: Engagement) -> int:
        return int(self._phase(engagement).phase)

    @extend_schema_field(serializers.ChoiceField(choices=Phase.choices))
    def get_derived_phase(self, engagement: Engagement) -> int:
        return int(self._phase(engagement).derived)


class EngagementUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    client = serializers.CharField(max_length=200, required=False, allow_blank=True)
    mart_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)


class EngagementStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=EngagementStatus.choices)


class EngagementPhaseSerializer(serializers.Serializer):
    current_phase = serializers.ChoiceField(choices=Phase.choices)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.get_full_name", read_only=True)
    # The least a new member can do; the Lead raises it deliberately.
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)

    class Meta:
        model = Membership
        fields = ["id", "username", "full_name", "role", "added_at"]
        read_only_fields = ["id", "added_at"]


class MembershipInviteSerializer(serializers.Serializer):
    """A person with no account yet; the service creates it and e-mails a password-set link."""

    name = serializers.CharField(max_length=150)
    email = serializers.CharField(max_length=254)  # the service judges it, with its own message
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)
    username = serializers.CharField(max_length=150, required=False, default="")


class MembershipRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class SignoffOwnerSerializer(serializers.ModelSerializer):
    gate = serializers.ChoiceField(choices=SignoffGate.choices)
    username = serializers.CharField(source="user.username")

    class Meta:
        model = SignoffOwner
        fields = ["id", "gate", "username"]
        read_only_fields = ["id"]


class GlossaryTermSerializer(serializers.ModelSerializer):
    class Meta:
        model = GlossaryTerm
        fields = ["id", "term", "definition", "synonyms"]
        read_only_fields = ["id"]
        validators: list = []  # the service reports duplicates with the model's message


class ReferenceLinkSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=LinkKind.choices, default=LinkKind.OTHER)

    class Meta:
        model = ReferenceLink
        fields = ["id", "kind", "title", "url", "notes"]
        read_only_fields = ["id"]


class JobSerializer(serializers.ModelSerializer):
    engagement: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    started_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "engagement",
            "state",
            "progress",
            "message",
            "params",
            "result",
            "error",
            "started_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class DemoJobSerializer(serializers.Serializer):
    steps = serializers.IntegerField(min_value=1, max_value=50, default=10)
    pause = serializers.FloatField(min_value=0, max_value=5, default=0.2)


class NotificationSerializer(serializers.ModelSerializer):
    engagement = serializers.CharField(source="engagement.slug", read_only=True)
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "engagement",
            "kind",
            "subject",
            "body",
            "url",
            "actor",
            "created_at",
            "read_at",
        ]
