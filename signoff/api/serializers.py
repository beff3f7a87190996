"""API serializers of signoff: read shapes, and one input serializer per workflow move."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from workbench.choices import EngagementStatus

from ..choices import CutoverStep, Gate, UatClassification, Verdict
from ..models import (
    AuditEvent,
    CutoverItem,
    Decision,
    ReviewRequest,
    SpecVersion,
    UatItem,
)


class SpecVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = SpecVersion
        fields = [
            "id",
            "number",
            "entities",
            "content_hash",
            "contract_name",
            "contract_version",
            "note",
            "created_by",
            "created_at",
        ]


class SpecVersionDetailSerializer(SpecVersionSerializer):
    class Meta(SpecVersionSerializer.Meta):
        fields = [*SpecVersionSerializer.Meta.fields, "snapshot"]


class FieldChangeSerializer(serializers.Serializer):
    entity = serializers.CharField()
    attribute = serializers.CharField()
    field = serializers.CharField()
    before = serializers.JSONField()
    after = serializers.JSONField()


class SignoffRowSerializer(serializers.Serializer):
    """One decision of the sign-off table (selectors.signoff_table)."""

    gate = serializers.ChoiceField(choices=Gate.choices)
    gate_label = serializers.CharField()
    version = serializers.IntegerField()
    content_hash = serializers.CharField()
    scope = serializers.CharField()
    approver = serializers.CharField()
    approver_username = serializers.CharField()
    role = serializers.CharField(help_text="The approver's role label; empty when not a role.")
    decision = serializers.CharField(help_text="The verdict's label.")
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    comment = serializers.CharField()
    date = serializers.DateTimeField()
    changed_since = serializers.BooleanField(
        help_text="An approval whose approved part of the spec has changed since."
    )
    superseded = serializers.BooleanField(help_text="A later approval of the same gate covers it.")


class DecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.CharField(source="decided_by.username", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "gate",
            "version",
            "content_hash",
            "verdict",
            "comment",
            "decided_by",
            "role",
            "decided_at",
        ]


class ReviewSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True)
    content_hash = serializers.CharField(source="version.content_hash", read_only=True)
    entities = serializers.JSONField(source="version.entities", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta:
        model = ReviewRequest
        fields = [
            "id",
            "gate",
            "version",
            "content_hash",
            "entities",
            "state",
            "message",
            "requested_by",
            "requested_at",
            "closed_at",
            "superseded_by",
            "decisions",
        ]


class SubmitInputSerializer(serializers.Serializer):
    gate = serializers.ChoiceField(choices=Gate.choices)
    entities = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    message = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(
        required=False, help_text="Review this existing version number instead of freezing anew."
    )


class FreezeInputSerializer(serializers.Serializer):
    entities = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DecideInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class UatItemSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True, allow_null=True)
    raised_by = serializers.CharField(source="raised_by.username", read_only=True)
    resolved_by = serializers.CharField(
        source="resolved_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = UatItem
        fields = [
            "id",
            "entity_name",
            "attribute_name",
            "test_result_ref",
            "classification",
            "description",
            "owner",
            "state",
            "resolution",
            "raised_by",
            "raised_at",
            "resolved_by",
            "resolved_at",
        ]


class UatItemInputSerializer(serializers.Serializer):
    entity_name = serializers.CharField()
    attribute_name = serializers.CharField(required=False, allow_blank=True, default="")
    classification = serializers.ChoiceField(choices=UatClassification.choices)
    description = serializers.CharField()
    owner = serializers.CharField(required=False, allow_blank=True, default="")
    test_result_ref = serializers.CharField(required=False, allow_blank=True, default="")


class ResolveInputSerializer(serializers.Serializer):
    resolution = serializers.CharField(allow_blank=True)


class ReopenInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CutoverItemSerializer(serializers.ModelSerializer):
    step_label = serializers.CharField(source="get_step_display", read_only=True)
    ticked_by = serializers.CharField(source="ticked_by.username", read_only=True, allow_null=True)

    class Meta:
        model = CutoverItem
        fields = ["step", "step_label", "ticked", "ticked_by", "ticked_at", "link", "note"]


@extend_schema_serializer(many=False)  # the `list` action answers one checklist, not a list
class CutoverChecklistSerializer(serializers.Serializer):
    engagement_status = serializers.ChoiceField(choices=EngagementStatus.choices)
    steps = CutoverItemSerializer(many=True)


class TickInputSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=CutoverStep.choices)
    link = serializers.URLField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class UntickInputSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=CutoverStep.choices)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)
    version = serializers.IntegerField(source="version.number", read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "kind",
            "gate",
            "actor",
            "created_at",
            "version",
            "content_hash",
            "review",
            "from_state",
            "to_state",
            "message",
        ]
