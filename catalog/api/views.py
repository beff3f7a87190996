"""API views of the catalog: thin — resolve, call a service, serialize."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from workbench.api.base import EngagementScopedViewSet
from workbench.api.serializers import JobSerializer

from .. import selectors
from ..models import CatalogColumn, CatalogTable, ColumnProfile, ImpactedEntity, SourceSystem
from ..services import sources as services
from ..services.ddl_import import catalog_import_csv, catalog_import_ddl
from .serializers import (
    CatalogColumnSerializer,
    CatalogGridSerializer,
    CatalogImportSerializer,
    CatalogTableSerializer,
    ColumnNoteSerializer,
    ColumnProfileSerializer,
    ImpactedEntitySerializer,
    IntrospectSerializer,
    ProfileSerializer,
    SourceSystemSerializer,
    SourceSystemUpdateSerializer,
    TableUnderstandingSerializer,
    TestResultSerializer,
)


class SourceSystemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    EngagementScopedViewSet,
):
    queryset = SourceSystem.objects.all()
    serializer_class = SourceSystemSerializer

    def get_queryset(self):
        return selectors.source_list(engagement=self.engagement)

    def create(self, request, engagement_slug=None):
        serializer = SourceSystemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = services.source_system_create(
            engagement=self.engagement, acting_user=request.user, **serializer.validated_data
        )
        return Response(SourceSystemSerializer(source).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SourceSystemUpdateSerializer, responses=SourceSystemSerializer)
    def partial_update(self, request, engagement_slug=None, pk=None):
        source = self.get_object()
        serializer = SourceSystemUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.source_system_update(
            source=source, data=serializer.validated_data, acting_user=request.user
        )
        return Response(SourceSystemSerializer(source).data)

    def perform_destroy(self, instance):
        services.source_system_delete(source=instance, acting_user=self.acting_user)

    @extend_schema(request=None, responses=TestResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, engagement_slug=None, pk=None):
        """Test the connection to the Mart."""
        source = self.get_object()
        try:
            message = services.source_system_test(source=source, acting_user=request.user)
        except ValidationError as exc:
            return Response({"ok": False, "message": " ".join(exc.messages)})
        return Response({"ok": True, "message": message})

    @extend_schema(request=IntrospectSerializer, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def introspect(self, request, engagement_slug=None, pk=None):
        """Catalog the Mart's tables and columns (a background job)."""
        source = self.get_object()
        serializer = IntrospectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.introspection_start(
            source=source,
            acting_user=request.user,
            schema=serializer.validated_data.get("schema"),
            schemas=serializer.validated_data.get("schemas"),
        )
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ProfileSerializer, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def profile(self, request, engagement_slug=None, pk=None):
        """Profile the Mart's columns (a background job)."""
        source = self.get_object()
        serializer = ProfileSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.profiling_start(
            source=source, acting_user=request.user, **serializer.validated_data
        )
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=CatalogImportSerializer, responses={201: SourceSystemSerializer})
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def import_catalog(self, request, engagement_slug=None):
        """Create a source from a catalog file (DDL or a workbook)."""
        serializer = CatalogImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            text = data["file"].read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError({"file": "The file is not UTF-8 text."}) from None
        common = {
            "engagement": self.engagement,
            "source_name": data["source_name"],
            "text": text,
            "acting_user": request.user,
        }
        if data["format"] == "ddl":
            result = catalog_import_ddl(**common, dialect=data.get("dialect", ""))
        else:
            result = catalog_import_csv(**common)
        source = SourceSystem.objects.get(
            engagement=self.engagement, name=data["source_name"].strip()
        )
        return Response(
            {**SourceSystemSerializer(source).data, "result": result},
            status=status.HTTP_201_CREATED,
        )


class CatalogTableViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet
):
    queryset = CatalogTable.objects.prefetch_related("foreign_keys", "impacted_entities")
    serializer_class = CatalogTableSerializer
    filterset_class = selectors.CatalogTableFilter

    @extend_schema(request=TableUnderstandingSerializer, responses=CatalogTableSerializer)
    def partial_update(self, request, engagement_slug=None, pk=None):
        table = self.get_object()
        serializer = TableUnderstandingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.table_understanding_update(
            table=table, data=serializer.validated_data, acting_user=request.user
        )
        return Response(CatalogTableSerializer(self.get_object()).data)


class CatalogColumnViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet
):
    queryset = CatalogColumn.objects.select_related("table").order_by(
        "table__schema", "table__name", "position"
    )
    serializer_class = CatalogColumnSerializer
    filterset_class = selectors.CatalogColumnFilter

    @extend_schema(request=ColumnNoteSerializer, responses=CatalogColumnSerializer)
    def partial_update(self, request, engagement_slug=None, pk=None):
        column = self.get_object()
        serializer = ColumnNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.column_notes_update(
            column=column, notes=serializer.validated_data["notes"], acting_user=request.user
        )
        return Response(CatalogColumnSerializer(column).data)

    @extend_schema(filters=True, responses=CatalogGridSerializer)  # the list's filters
    @action(detail=False, methods=["get"], pagination_class=None)
    def grid(self, request, engagement_slug=None):
        """The catalog grid's rows: the columns matching the list's filters, with their profiles.

        One answer of at most GRID_LIMIT columns (`cut` says when more match), which the grid
        sorts and filters further in the browser."""
        filterset, rows, cut = selectors.catalog_search(
            engagement=self.engagement, params=request.query_params, limit=selectors.GRID_LIMIT
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return Response(
            CatalogGridSerializer({"rows": rows, "cut": cut, "limit": selectors.GRID_LIMIT}).data
        )


class ColumnProfileViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet
):
    queryset = ColumnProfile.objects.select_related("column")
    serializer_class = ColumnProfileSerializer
    filterset_fields = ["column", "column__table"]


class ImpactedEntityViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    EngagementScopedViewSet,
):
    queryset = ImpactedEntity.objects.select_related("table")
    serializer_class = ImpactedEntitySerializer
    filterset_fields = ["table", "entity_name"]

    def create(self, request, engagement_slug=None):
        serializer = ImpactedEntitySerializer(data=request.data)
        table_field = serializer.fields["table"]
        assert isinstance(table_field, serializers.PrimaryKeyRelatedField)
        table_field.queryset = CatalogTable.objects.filter(engagement=self.engagement)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        table = get_object_or_404(CatalogTable, engagement=self.engagement, pk=data["table"].pk)
        link = services.impacted_entity_add(
            table=table,
            entity_name=data["entity_name"],
            note=data.get("note", ""),
            acting_user=request.user,
        )
        return Response(ImpactedEntitySerializer(link).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.impacted_entity_remove(link=instance, acting_user=self.acting_user)
