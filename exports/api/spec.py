"""API of the Master Mapping Specification: the workbook, and imports (upload → preview → apply
or cancel). Thin: resolve, call a service, serialize."""

from __future__ import annotations

import io

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from workbench.api.base import EngagementScopedViewSet
from workbench.uploads import UploadKind, size_validator

from ..models import SpecImport
from ..services import spec as services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SpecImportSerializer(serializers.ModelSerializer):
    uploaded_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    decided_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = SpecImport
        fields = [
            "id",
            "file_name",
            "file_hash",
            "file_size",
            "state",
            "change_count",
            "conflict_count",
            "applied_count",
            "refused_count",
            "uploaded_by",
            "uploaded_at",
            "decided_by",
            "decided_at",
            "preview",
        ]
        read_only_fields = fields


class SpecUploadSerializer(serializers.Serializer):
    file = serializers.FileField(validators=[size_validator(UploadKind.WORKBOOK)])


class SpecImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet):
    """Imports of edited workbooks. POST a file to get its preview; apply or cancel it."""

    queryset = SpecImport.objects.select_related("uploaded_by", "decided_by")
    serializer_class = SpecImportSerializer
    parser_classes = [MultiPartParser]

    @extend_schema(request=SpecUploadSerializer, responses={201: SpecImportSerializer})
    def create(self, request, engagement_slug=None):
        engagement = self.engagement  # outsiders get 404 before anything else
        upload = SpecUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        spec_import = services.spec_import_preview(
            engagement=engagement,
            file_name=file.name,
            content=file.read(),
            acting_user=request.user,
        )
        return Response(SpecImportSerializer(spec_import).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=SpecImportSerializer)
    @action(detail=True, methods=["post"])
    def apply(self, request, engagement_slug=None, pk=None):
        """Apply the uploaded specification's changes to the mapping."""
        spec_import = services.spec_import_apply(
            spec_import=self.get_object(), acting_user=request.user
        )
        return Response(SpecImportSerializer(spec_import).data)

    @extend_schema(request=None, responses=SpecImportSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, engagement_slug=None, pk=None):
        """Discard the uploaded specification."""
        spec_import = services.spec_import_cancel(
            spec_import=self.get_object(), acting_user=request.user
        )
        return Response(SpecImportSerializer(spec_import).data)


class SpecWorkbookViewSet(EngagementScopedViewSet):
    """The Master Mapping Specification workbook of the engagement (.xlsx)."""

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    def list(self, request, engagement_slug=None):
        """Download the Master Mapping Specification workbook (.xlsx)."""
        buffer = io.BytesIO()
        services.spec_export(engagement=self.engagement, acting_user=request.user, stream=buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        name = services.spec_file_name(self.engagement)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
