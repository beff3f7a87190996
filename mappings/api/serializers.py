"""API serializers of mappings. Input serializers only shape input; the services decide."""

from __future__ import annotations

from rest_framework import serializers

from ..choices import CommentKind, Feasibility, LoadStrategy, MappingStatus, SmeReview
from ..models import AttributeMapping, EntityMapping, MappingComment
from ..selectors.mapping import GRID_MAPPING_FIELDS, PROBLEM_FILTERS
from ..services.bulk import MAX_BULK_ROWS, BulkAction, Outcome


class EntityMappingSerializer(serializers.ModelSerializer):
    updated_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    load_strategy = serializers.ChoiceField(
        choices=LoadStrategy.choices,
        allow_blank=True,
        read_only=True,
        help_text="blank: merge on the primary key (full refresh without one)",
    )

    class Meta:
        model = EntityMapping
        fields = [
            "id",
            "entity_name",
            "driving_table",
            "driving_alias",
            "joins",
            "filter",
            "frequency",
            "load_strategy",
            "watermark",
            "delete_condition",
            "notes",
            "status",
            "feasibility",
            "feasibility_comment",
            "problems",
            "row_version",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = fields


class EntityMappingUpdateSerializer(serializers.Serializer):
    row_version = serializers.IntegerField(help_text="The version your edit is based on.")
    driving_table = serializers.CharField(required=False, allow_blank=True, max_length=400)
    driving_alias = serializers.CharField(required=False, allow_blank=True, max_length=60)
    joins = serializers.CharField(required=False, allow_blank=True)
    filter = serializers.CharField(required=False, allow_blank=True)
    frequency = serializers.CharField(required=False, max_length=100)
    load_strategy = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="full_refresh, merge or append; blank: merge on the key (full refresh without one).",
    )
    watermark = serializers.CharField(required=False, allow_blank=True, max_length=200)
    delete_condition = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(required=False)


class AttributeMappingSerializer(serializers.ModelSerializer):
    entity_name = serializers.CharField(source="entity_mapping.entity_name", read_only=True)
    updated_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = AttributeMapping
        fields = [
            "id",
            "entity_mapping",
            "entity_name",
            "attribute_name",
            "source_columns",
            "transformation",
            "default_value",
            "edge_cases",
            "notes",
            "status",
            "lineage",
            "lineage_tables",
            "inferred_type",
            "problems",
            "feasibility",
            "feasibility_comment",
            "sme_review",
            "row_version",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = fields


class AttributeMappingUpdateSerializer(serializers.Serializer):
    row_version = serializers.IntegerField(help_text="The version your edit is based on.")
    source_columns = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    transformation = serializers.CharField(required=False, allow_blank=True)
    default_value = serializers.CharField(required=False, allow_blank=True, max_length=500)
    edge_cases = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(required=False)


class ConflictSerializer(serializers.Serializer):
    """409 on an attribute mapping: your row_version is stale; `current` is the row as it is now."""

    detail = serializers.CharField()
    current = AttributeMappingSerializer()


class PreparedSerializer(serializers.Serializer):
    entities = serializers.IntegerField(help_text="Entity mapping rows created.")
    attributes = serializers.IntegerField(help_text="Attribute mapping rows created.")


class EntityConflictSerializer(serializers.Serializer):
    """409 on an entity mapping: your row_version is stale; `current` is the row as it is now."""

    detail = serializers.CharField()
    current = EntityMappingSerializer()


class FeasibilitySerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Feasibility.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReviewSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=SmeReview.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class RevertSerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    row_version = serializers.IntegerField()


class ValidateSerializer(serializers.Serializer):
    source_columns = serializers.CharField(required=False, allow_blank=True, default="")
    transformation = serializers.CharField(required=False, allow_blank=True, default="")
    default_value = serializers.CharField(required=False, allow_blank=True, default="")


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    # DRF takes declared fields off the class, so these names do not shadow Serializer.errors
    # or Field.parent at run time; the stubs cannot know that.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )
    warnings = serializers.ListField(child=serializers.CharField())
    lineage = serializers.ListField(child=serializers.CharField())
    inferred_type = serializers.CharField()


class SuggestionSerializer(serializers.Serializer):
    reference = serializers.CharField()
    table = serializers.CharField()
    column = serializers.CharField()
    alias = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class CommentSerializer(serializers.ModelSerializer):
    author: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    resolved_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = MappingComment
        fields = [
            "id",
            "entity_mapping",
            "attribute_mapping",
            "parent",
            "kind",
            "text",
            "mentions",
            "author",
            "created_at",
            "resolved",
            "resolved_by",
            "resolved_at",
        ]
        read_only_fields = fields


class CommentCreateSerializer(serializers.Serializer):
    entity_mapping = serializers.IntegerField(required=False)
    attribute_mapping = serializers.IntegerField(required=False)
    parent = serializers.IntegerField(required=False)  # type: ignore[assignment]  # as `errors` above
    kind = serializers.ChoiceField(choices=CommentKind.choices, default=CommentKind.QUESTION)
    text = serializers.CharField()

    def validate(self, attrs):
        if not attrs.get("entity_mapping") and not attrs.get("attribute_mapping"):
            raise serializers.ValidationError("Name the entity_mapping or attribute_mapping.")
        return attrs


class GapItemSerializer(serializers.Serializer):
    entity = serializers.CharField()
    attribute = serializers.CharField()
    category = serializers.CharField()
    issue = serializers.CharField()
    severity = serializers.CharField()
    suggested_action = serializers.CharField()


class GridRowSerializer(serializers.ModelSerializer):
    """A row of the mapping grid: the attribute mapping's columns the grid shows (the one list
    `GRID_MAPPING_FIELDS`), what the contract says of the attribute and the talk about it. It
    documents the shape only: the rows are built as plain values by
    `mappings.selectors.mapping.mapping_grid_values` (5,000 rows through a serialiser take
    seconds). The rest of a mapping (edge cases, notes, lineage tables, who changed it when) is in
    the single-row API."""

    data_type = serializers.CharField(help_text="The contract's logical type and size.")
    canonical_meaning = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]  # Field.required is a bool
    primary_key = serializers.BooleanField()
    in_contract = serializers.BooleanField()
    comment_count = serializers.IntegerField()
    open_questions = serializers.IntegerField()
    flags = serializers.ListField(child=serializers.ChoiceField(choices=list(PROBLEM_FILTERS)))

    class Meta:
        model = AttributeMapping
        fields = [
            *GRID_MAPPING_FIELDS,
            "data_type",
            "canonical_meaning",
            "required",
            "primary_key",
            "in_contract",
            "comment_count",
            "open_questions",
            "flags",
        ]
        read_only_fields = fields


class BulkSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        max_length=MAX_BULK_ROWS,
        help_text=f"The attribute mappings to act on (at most {MAX_BULK_ROWS}).",
    )
    action = serializers.ChoiceField(choices=[a.value for a in BulkAction])
    value = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="set_status: a mapping status; set_feasibility: a verdict; "
        "set_sme_review: a review state; unused by accept_suggestion.",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")

    ALLOWED_VALUES = {
        BulkAction.SET_STATUS: MappingStatus.values,
        BulkAction.SET_FEASIBILITY: Feasibility.values,
        BulkAction.SET_SME_REVIEW: SmeReview.values,
    }

    def validate_ids(self, ids):
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("Name each row once.")
        return ids

    def validate(self, attrs):
        allowed = self.ALLOWED_VALUES.get(attrs["action"])
        if allowed is not None and attrs["value"] not in allowed:
            raise serializers.ValidationError({"value": f"Choose one of: {', '.join(allowed)}."})
        return attrs


class BulkRowResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    attribute = serializers.CharField()
    outcome = serializers.ChoiceField(choices=[o.value for o in Outcome])
    message = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    detail = serializers.CharField()
    results = BulkRowResultSerializer(many=True)
    rows = GridRowSerializer(many=True, help_text="The rows as they are now (after the action).")
