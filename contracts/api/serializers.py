"""API serializers of contracts. They shape data; the services validate and save."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.choices import LayerStatus
from contracts.models import (
    InterfaceAttribute,
    InterfaceEntity,
    InterfaceLayer,
    InterfaceNote,
    InterfaceRelationship,
)
from workbench.uploads import UploadKind, size_validator


@extend_schema_field(
    {
        "type": "string",
        "description": "One of: " + ", ".join(LayerStatus.values) + ".",
    }
)
class LayerStatusField(serializers.CharField):
    pass


class InterfaceLayerSerializer(serializers.ModelSerializer):
    status = LayerStatusField(read_only=True)
    imported_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    published_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = InterfaceLayer
        fields = [
            "id",
            "name",
            "version",
            "contract_id",
            "description",
            "status",
            "source_file_name",
            "source_format",
            "file_hash",
            "imported_by",
            "imported_at",
            "published_by",
            "published_at",
        ]
        read_only_fields = fields


class ContractImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="ODCS v3 .yaml/.yml/.json, or an .xlsx/.csv attribute list.",
        validators=[size_validator(UploadKind.CONTRACT)],
    )
    version = serializers.CharField(
        max_length=50, required=False, allow_blank=True, help_text="Override the file's version."
    )


class InterfaceEntitySerializer(serializers.ModelSerializer):
    attribute_count = serializers.IntegerField(read_only=True)
    mandatory_count = serializers.IntegerField(read_only=True)
    optional_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = InterfaceEntity
        fields = [
            "id",
            "layer",
            "name",
            "physical_name",
            "business_name",
            "description",
            "grain",
            "position",
            "attribute_count",
            "mandatory_count",
            "optional_count",
            "extra",
        ]
        read_only_fields = fields


class ReferenceSerializer(serializers.ModelSerializer):
    """A foreign key's target; outside the contract, entity and attribute are null and
    `reference` is the target as the file wrote it."""

    entity = serializers.CharField(source="to_attribute.entity.name", allow_null=True)
    attribute = serializers.CharField(source="to_attribute.name", allow_null=True)
    reference = serializers.CharField(source="target")
    external = serializers.BooleanField(source="is_external")

    class Meta:
        model = InterfaceRelationship
        fields = ["entity", "attribute", "reference", "external"]


class InterfaceAttributeSerializer(serializers.ModelSerializer):
    entity_name = serializers.CharField(source="entity.name", read_only=True)
    references = ReferenceSerializer(many=True, read_only=True)

    class Meta:
        model = InterfaceAttribute
        fields = [
            "id",
            "layer",
            "entity",
            "entity_name",
            "name",
            "position",
            "physical_name",
            "business_name",
            "description",
            "logical_type",
            "physical_type",
            "length",
            "precision",
            "scale",
            "required",
            "primary_key",
            "primary_key_position",
            "unique",
            "allowed_values",
            "max_length",
            "format",
            "pattern",
            "minimum",
            "maximum",
            "canonical_meaning",
            "examples",
            "classification",
            "references",
            "extra",
        ]
        read_only_fields = fields


class InterfaceNoteSerializer(serializers.ModelSerializer):
    author: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = InterfaceNote
        fields = [
            "id",
            "entity_name",
            "attribute_name",
            "text",
            "author",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "author", "created_at", "updated_at"]


class InterfaceNoteUpdateSerializer(serializers.Serializer):
    text = serializers.CharField()


class ContractFieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField()
    new = serializers.JSONField()


class ContractEntityChangeSerializer(serializers.Serializer):
    entity = serializers.CharField()
    changes = ContractFieldChangeSerializer(many=True)


class ContractAttributeChangeSerializer(serializers.Serializer):
    entity = serializers.CharField()
    attribute = serializers.CharField()
    changes = ContractFieldChangeSerializer(many=True)


class AffectedMappingSerializer(serializers.Serializer):
    entity = serializers.CharField()
    attribute = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    reason = serializers.CharField()


class ContractGradedFieldSerializer(ContractFieldChangeSerializer):
    direction = serializers.ChoiceField(
        choices=["tightens", "loosens", "both", "undetermined", "untested"],
        help_text="How the field's change moves the set of data the contract accepts.",
    )


class ContractChangeSerializer(serializers.Serializer):
    """One named change, graded as `datacontract breaking` grades it."""

    kind = serializers.ChoiceField(choices=["entity", "attribute", "relationship"])
    action = serializers.ChoiceField(choices=["added", "removed", "changed"])
    entity = serializers.CharField()
    attribute = serializers.CharField(allow_null=True)
    subject = serializers.CharField()
    # DRF lifts declared fields out of the class body, so this name does not hide Serializer.fields.
    fields = ContractGradedFieldSerializer(many=True)  # type: ignore[assignment]
    direction = serializers.CharField(
        allow_null=True, help_text="null inside an entity or attribute added or removed"
    )
    consumer = serializers.ChoiceField(
        choices=["info", "warning", "error"], help_text="error: breaks consumers"
    )
    producer = serializers.ChoiceField(
        choices=["info", "warning", "error"], help_text="error: breaks the load (the mapping)"
    )
    breaking = serializers.BooleanField(help_text="breaks consumers")
    verdict = serializers.CharField()
    affected_mappings = AffectedMappingSerializer(many=True)


class LayerDiffSerializer(serializers.Serializer):
    old_version = serializers.CharField(allow_null=True)
    new_version = serializers.CharField()
    entities_added = serializers.ListField(child=serializers.CharField())
    entities_removed = serializers.ListField(child=serializers.CharField())
    entities_changed = ContractEntityChangeSerializer(many=True)
    attributes_added = serializers.ListField(child=serializers.CharField())
    attributes_removed = serializers.ListField(child=serializers.CharField())
    attributes_changed = ContractAttributeChangeSerializer(many=True)
    relationships_added = serializers.ListField(child=serializers.CharField())
    relationships_removed = serializers.ListField(child=serializers.CharField())
    affected_mappings = AffectedMappingSerializer(many=True)
    mappings_exist = serializers.BooleanField()
    breaking_for_consumers = serializers.BooleanField()
    breaking_for_load = serializers.BooleanField()
    changes = ContractChangeSerializer(many=True)
