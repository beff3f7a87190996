"""API views of contracts: thin — resolve, call a service or a selector, serialize.

Contracts are read-only once imported: the writes are import (POST a file), publish and discard
of a draft; notes are the one editable collection.
"""

from __future__ import annotations

import re

from django.db.models import Count, Q
from django.http import HttpResponse
from django.utils.text import slugify
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from contracts import selectors, services
from contracts.diff import layer_diff
from contracts.exporters import layer_to_yaml
from contracts.hooks import affected_mappings, has_affected_mappings_provider
from contracts.models import InterfaceAttribute, InterfaceEntity, InterfaceLayer, InterfaceNote
from workbench import policy
from workbench.api.base import EngagementScopedViewSet
from workbench.policy import Action

from .serializers import (
    ContractImportSerializer,
    InterfaceAttributeSerializer,
    InterfaceEntitySerializer,
    InterfaceLayerSerializer,
    InterfaceNoteSerializer,
    InterfaceNoteUpdateSerializer,
    LayerDiffSerializer,
)

# The export's body: the ODCS v3.1 document (YAML), its header fields always present.
_ODCS_DOCUMENT = {
    "type": "object",
    "description": "An Open Data Contract Standard (ODCS) v3.1 data contract.",
    "required": ["apiVersion", "kind", "id", "name", "version", "status"],
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string", "enum": ["DataContract"]},
        "schema": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": True,
}


class InterfaceLayerViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet
):
    """Versions of the engagement's Interface Layer contract."""

    queryset = InterfaceLayer.objects.select_related("imported_by", "published_by")
    serializer_class = InterfaceLayerSerializer
    filterset_fields = ["status", "name", "version"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": ContractImportSerializer},
        responses={201: InterfaceLayerSerializer},
        description="Import a contract file as a new draft version (all or nothing).",
    )
    def create(self, request, engagement_slug=None):
        serializer = ContractImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        layer = services.contract_import(
            engagement=self.engagement,
            file_name=upload.name,
            content=upload.read(),
            version=serializer.validated_data.get("version") or None,
            acting_user=request.user,
        )
        return Response(InterfaceLayerSerializer(layer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=InterfaceLayerSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, engagement_slug=None, pk=None):
        """Publish the draft version of the contract."""
        layer = services.contract_publish(layer=self.get_object(), acting_user=request.user)
        return Response(InterfaceLayerSerializer(layer).data)

    @extend_schema(responses={204: None}, description="Discard a draft version.")
    def destroy(self, request, engagement_slug=None, pk=None):
        services.contract_discard(layer=self.get_object(), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Export the version as an ODCS data contract",
        responses={(200, "application/yaml"): OpenApiResponse(_ODCS_DOCUMENT)},
        description="The version as an ODCS v3.1 YAML document (an attachment).",
    )
    @action(detail=True, methods=["get"])
    def export(self, request, engagement_slug=None, pk=None):
        layer = self.get_object()
        policy.check(request.user, self.engagement, Action.EXPORT)
        response = HttpResponse(layer_to_yaml(layer), content_type="application/yaml")
        file_name = f"{slugify(layer.name)}-{slugify(layer.version)}.odcs.yaml"
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response

    @extend_schema(responses=LayerDiffSerializer)
    @action(detail=True, methods=["get"])
    def diff(self, request, engagement_slug=None, pk=None):
        """Changes from the version this one is compared with, and the mappings they affect."""
        layer = self.get_object()
        old = selectors.diff_base(layer=layer)
        diff = layer_diff(old=old, new=layer)
        affected = affected_mappings(self.engagement, diff) if old else []
        diff.attach_affected(affected)
        data = {
            "old_version": old.version if old else None,
            "new_version": layer.version,
            "entities_added": diff.entities_added,
            "entities_removed": diff.entities_removed,
            "entities_changed": diff.entities_changed,
            "attributes_added": [f"{e}.{a}" for e, a in diff.attributes_added],
            "attributes_removed": [f"{e}.{a}" for e, a in diff.attributes_removed],
            "attributes_changed": diff.attributes_changed,
            "relationships_added": diff.relationships_added,
            "relationships_removed": diff.relationships_removed,
            "affected_mappings": affected,
            "mappings_exist": has_affected_mappings_provider(),
            "breaking_for_consumers": diff.breaks_consumers,
            "breaking_for_load": diff.breaks_producer,
            "changes": [change.as_dict() for change in diff.changes],
        }
        return Response(LayerDiffSerializer(data).data)


_LAYER_PARAMETER = OpenApiParameter(
    "layer", int, description="layer version id (default: the published, else newest draft)"
)

_ID = re.compile(r"[0-9]{1,18}")  # 18 digits stay inside a bigint, whatever the database


def _layer_id(raw: str) -> int | None:
    """The `layer` query parameter: None when absent (the current layer), else a version id.

    Anything else is a 400: a huge number used to reach the database and overflow (a 500), and
    a word silently listed the current layer instead.
    """
    raw = raw.strip()
    if not raw:
        return None
    if not _ID.fullmatch(raw):
        raise ValidationError({"layer": ["layer must be a layer version id (a whole number)."]})
    return int(raw)


class _LayerChildViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet):
    def get_queryset(self):
        assert self.queryset is not None
        qs = self.queryset.filter(layer__engagement=self.engagement)
        if self.action == "list":
            layer = _layer_id(self.request.query_params.get("layer", ""))
            if layer is not None:
                qs = qs.filter(layer_id=layer)
            else:
                current = selectors.current_layer(engagement=self.engagement)
                qs = qs.filter(layer=current) if current else qs.none()
        return qs


@extend_schema(parameters=[_LAYER_PARAMETER])
class InterfaceEntityViewSet(_LayerChildViewSet):
    queryset = InterfaceEntity.objects.annotate(
        attribute_count=Count("attributes"),
        mandatory_count=Count("attributes", filter=Q(attributes__required=True)),
        optional_count=Count("attributes", filter=Q(attributes__required=False)),
    ).order_by("position")
    serializer_class = InterfaceEntitySerializer
    filterset_fields = ["name"]


@extend_schema(
    parameters=[
        _LAYER_PARAMETER,
        OpenApiParameter("q", str, description="search names, meanings and descriptions"),
    ]
)
class InterfaceAttributeViewSet(_LayerChildViewSet):
    queryset = (
        InterfaceAttribute.objects.select_related("entity")
        .prefetch_related("references__to_attribute__entity")
        .order_by("entity__position", "position")
    )
    serializer_class = InterfaceAttributeSerializer
    filterset_fields = ["entity", "required", "primary_key", "logical_type"]

    def get_queryset(self):
        qs = super().get_queryset()
        query = self.request.query_params.get("q", "").strip()
        if query:
            qs = qs.filter(
                Q(name__icontains=query)
                | Q(entity__name__icontains=query)
                | Q(canonical_meaning__icontains=query)
                | Q(description__icontains=query)
            )
        return qs


class InterfaceNoteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    EngagementScopedViewSet,
):
    """Interface Understanding Notes on entities and attributes (by name)."""

    queryset = InterfaceNote.objects.select_related("author")
    serializer_class = InterfaceNoteSerializer
    filterset_fields = ["entity_name", "attribute_name"]

    def create(self, request, engagement_slug=None):
        serializer = InterfaceNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.note_create(
            engagement=self.engagement, **serializer.validated_data, acting_user=request.user
        )
        return Response(InterfaceNoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InterfaceNoteUpdateSerializer, responses=InterfaceNoteSerializer)
    def partial_update(self, request, engagement_slug=None, pk=None):
        note = self.get_object()
        serializer = InterfaceNoteUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.note_update(
            note=note, text=serializer.validated_data["text"], acting_user=request.user
        )
        return Response(InterfaceNoteSerializer(note).data)

    def perform_destroy(self, instance):
        services.note_delete(note=instance, acting_user=self.acting_user)
