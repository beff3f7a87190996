"""API serializers of the catalog. Source systems never carry their password out:
`url` is write-only and `display_url` masks the secret."""

from __future__ import annotations

from rest_framework import serializers

from workbench.uploads import UploadKind, size_validator

from ..models import (
    CatalogColumn,
    CatalogForeignKey,
    CatalogTable,
    ColumnProfile,
    ImpactedEntity,
    SourceSystem,
)
from ..services.connection import display_url


class SourceSystemSerializer(serializers.ModelSerializer):
    url = serializers.CharField(write_only=True, max_length=1000)
    display_url = serializers.SerializerMethodField()
    has_password = serializers.BooleanField(source="has_secret", read_only=True)
    table_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = SourceSystem
        fields = [
            "id",
            "name",
            "url",
            "display_url",
            "dialect",
            "password_env",
            "has_password",
            "default_schema",
            "schemas",
            "origin",
            "introspected_at",
            "profiled_at",
            "last_diff",
            "table_count",
        ]
        read_only_fields = ["origin", "introspected_at", "profiled_at", "last_diff"]
        extra_kwargs = {
            "password_env": {"required": False},
            "default_schema": {"required": False},
            "dialect": {"required": False},
        }

    schemas = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        max_length=100,
        help_text="The schemas the source covers; empty: the database's default schema.",
    )

    def get_display_url(self, source) -> str:
        return display_url(source) if source.url else ""


class SourceSystemUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    url = serializers.CharField(max_length=1000, required=False, write_only=True)
    password_env = serializers.CharField(max_length=200, required=False, allow_blank=True)
    default_schema = serializers.CharField(max_length=200, required=False, allow_blank=True)
    dialect = serializers.CharField(max_length=60, required=False, allow_blank=True)
    schemas = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        max_length=100,
    )


class IntrospectSerializer(serializers.Serializer):
    schema = serializers.CharField(max_length=200, required=False, allow_blank=True)
    schemas = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        max_length=100,
        help_text="Schemas to (re-)read; the others the source covers are left as they are.",
    )


class ProfileSerializer(serializers.Serializer):
    table_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    sample_rows = serializers.IntegerField(min_value=100, max_value=10_000_000, required=False)


class CatalogImportSerializer(serializers.Serializer):
    source_name = serializers.CharField(max_length=200)
    format = serializers.ChoiceField(choices=["ddl", "csv"])
    dialect = serializers.CharField(max_length=40, required=False, allow_blank=True)
    file = serializers.FileField(validators=[size_validator(UploadKind.DDL)])


class TestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()


class ForeignKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogForeignKey
        fields = [
            "id",
            "name",
            "columns",
            "referred_schema",
            "referred_table_name",
            "referred_table",
            "referred_columns",
        ]


class CatalogTableSerializer(serializers.ModelSerializer):
    foreign_keys = ForeignKeySerializer(many=True, read_only=True)
    impacted_entities: serializers.SlugRelatedField = serializers.SlugRelatedField(
        many=True, slug_field="entity_name", read_only=True
    )

    class Meta:
        model = CatalogTable
        fields = [
            "id",
            "source",
            "schema",
            "name",
            "kind",
            "comment",
            "primary_key",
            "unique_constraints",
            "indexes",
            "foreign_keys",
            "row_count",
            "profiled_at",
            "subject_area",
            "grain",
            "derivation_notes",
            "gap_notes",
            "notes",
            "impacted_entities",
        ]
        read_only_fields = [
            f
            for f in fields
            if f not in {"subject_area", "grain", "derivation_notes", "gap_notes", "notes"}
        ]


class TableUnderstandingSerializer(serializers.Serializer):
    subject_area = serializers.CharField(max_length=100, required=False, allow_blank=True)
    grain = serializers.CharField(max_length=300, required=False, allow_blank=True)
    derivation_notes = serializers.CharField(required=False, allow_blank=True)
    gap_notes = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class CatalogColumnSerializer(serializers.ModelSerializer):
    table_name = serializers.CharField(source="table.qualified_name", read_only=True)

    class Meta:
        model = CatalogColumn
        fields = [
            "id",
            "table",
            "table_name",
            "name",
            "position",
            "data_type",
            "length",
            "precision",
            "scale",
            "nullable",
            "default",
            "comment",
            "is_primary_key",
            "notes",
        ]
        read_only_fields = [f for f in fields if f != "notes"]


class CatalogGridRowSerializer(serializers.ModelSerializer):
    """A row of the catalog grid: the column, its table and the gist of its profile (null when
    the column is not profiled)."""

    table_name = serializers.CharField(source="table.qualified_name", read_only=True)
    null_percent = serializers.FloatField(
        source="profile.null_percent", read_only=True, allow_null=True
    )
    distinct_count = serializers.IntegerField(
        source="profile.distinct_count", read_only=True, allow_null=True
    )
    patterns = serializers.SerializerMethodField()

    class Meta:
        model = CatalogColumn
        fields = [
            "id",
            "table",
            "table_name",
            "name",
            "comment",
            "data_type",
            "nullable",
            "is_primary_key",
            "null_percent",
            "distinct_count",
            "patterns",
            "notes",
        ]
        read_only_fields = fields

    def get_patterns(self, column: CatalogColumn) -> list[str]:
        profile = getattr(column, "profile", None)
        return [p["pattern"] for p in profile.patterns] if profile else []


class CatalogGridSerializer(serializers.Serializer):
    rows = CatalogGridRowSerializer(many=True)
    cut = serializers.BooleanField(help_text="More columns match: only the first `limit` are here.")
    limit = serializers.IntegerField()


class ColumnNoteSerializer(serializers.Serializer):
    notes = serializers.CharField(allow_blank=True)


class ColumnProfileSerializer(serializers.ModelSerializer):
    table = serializers.IntegerField(source="column.table_id", read_only=True)
    column_name = serializers.CharField(source="column.name", read_only=True)

    class Meta:
        model = ColumnProfile
        fields = [
            "id",
            "column",
            "table",
            "column_name",
            "taken_at",
            "sample_rows",
            "null_count",
            "null_percent",
            "distinct_count",
            "min_value",
            "max_value",
            "avg_length",
            "max_length",
            "top_values",
            "patterns",
        ]


class ImpactedEntitySerializer(serializers.ModelSerializer):
    class Meta:
        model = ImpactedEntity
        fields = ["id", "table", "entity_name", "note"]
