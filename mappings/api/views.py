"""API of the mapping: entity and attribute mappings (with `row_version` for optimistic locking:
a stale version answers 409 with the current row), validation without saving, suggestions,
feasibility, SME review, comments and the GAP. Thin: every write is a service call."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from workbench.api.base import EngagementScopedViewSet

from ..compiled import compile_rule_context
from ..hooks import approval_state
from ..models import AttributeMapping, EntityMapping, MappingComment
from ..selectors.gap import gap_items
from ..selectors.mapping import mapping_grid_values
from ..selectors.suggestions import attribute_suggestions
from ..services import mapping as services
from ..services.bulk import BulkAction, BulkRefused, attribute_mappings_bulk
from ..services.mapping import MappingConflict
from .serializers import (
    AttributeMappingSerializer,
    AttributeMappingUpdateSerializer,
    BulkResultSerializer,
    BulkSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    ConflictSerializer,
    EntityConflictSerializer,
    EntityMappingSerializer,
    EntityMappingUpdateSerializer,
    FeasibilitySerializer,
    GapItemSerializer,
    GridRowSerializer,
    PreparedSerializer,
    RevertSerializer,
    ReviewSerializer,
    SuggestionSerializer,
    ValidateSerializer,
    ValidationResultSerializer,
)


def _conflict(conflict: MappingConflict, serializer_class) -> Response:
    return Response(
        {"detail": str(conflict), "current": serializer_class(conflict.current).data},
        status=status.HTTP_409_CONFLICT,
    )


class EntityMappingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet
):
    queryset = EntityMapping.objects.select_related("updated_by")
    serializer_class = EntityMappingSerializer
    filterset_fields = ["status", "feasibility", "entity_name"]

    @extend_schema(
        request=EntityMappingUpdateSerializer,
        responses={200: EntityMappingSerializer, 409: EntityConflictSerializer},
    )
    def partial_update(self, request, engagement_slug=None, pk=None):
        entity = self.get_object()
        payload = EntityMappingUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        row_version = data.pop("row_version")
        try:
            entity = services.entity_mapping_update(
                entity_mapping=entity, data=data, row_version=row_version, acting_user=request.user
            )
        except MappingConflict as conflict:
            return _conflict(conflict, EntityMappingSerializer)
        return Response(EntityMappingSerializer(entity).data)

    @extend_schema(request=None, responses={201: PreparedSerializer})
    @action(detail=False, methods=["post"])
    def prepare(self, request, engagement_slug=None):
        """Create the missing mapping rows for the published contract."""
        created = services.mapping_prepare(engagement=self.engagement, acting_user=request.user)
        return Response(created, status=status.HTTP_201_CREATED)

    @extend_schema(request=FeasibilitySerializer, responses=EntityMappingSerializer)
    @action(detail=True, methods=["post"])
    def feasibility(self, request, engagement_slug=None, pk=None):
        """Record a feasibility verdict on the entity mapping."""
        entity = self.get_object()
        payload = FeasibilitySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.feasibility_set(mapping=entity, acting_user=request.user, **payload.validated_data)
        return Response(EntityMappingSerializer(entity).data)


class AttributeMappingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet
):
    queryset = AttributeMapping.objects.select_related("entity_mapping", "updated_by")
    serializer_class = AttributeMappingSerializer
    filterset_fields = ["entity_mapping", "status", "feasibility", "sme_review", "attribute_name"]

    @extend_schema(
        request=AttributeMappingUpdateSerializer,
        responses={200: AttributeMappingSerializer, 409: ConflictSerializer},
    )
    def partial_update(self, request, engagement_slug=None, pk=None):
        mapping = self.get_object()
        payload = AttributeMappingUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        row_version = data.pop("row_version")
        try:
            mapping = services.attribute_mapping_update(
                attribute_mapping=mapping,
                data=data,
                row_version=row_version,
                acting_user=request.user,
            )
        except MappingConflict as conflict:
            return _conflict(conflict, AttributeMappingSerializer)
        return Response(AttributeMappingSerializer(mapping).data)

    @extend_schema(
        parameters=[OpenApiParameter("entity_mapping", int, required=True)],
        responses=GridRowSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def grid(self, request, engagement_slug=None):
        """Every attribute mapping of one entity, in contract order, with the contract's type,
        canonical meaning and flags and the talk count: the rows of the mapping grid."""
        raw = request.query_params.get("entity_mapping", "")
        if not raw.isdigit() or len(raw) > 18:
            raise ValidationError({"entity_mapping": ["Name the entity mapping by its id."]})
        entity = get_object_or_404(
            EntityMapping.objects.filter(engagement=self.engagement), pk=int(raw)
        )
        return Response(self._grid_rows(entity))

    def _grid_rows(self, entity: EntityMapping, ids: set[int] | None = None) -> list[dict]:
        """The rows in GridRowSerializer's shape, built from values (see mapping_grid_values)."""
        approval = approval_state(engagement=self.engagement, entities=[entity.entity_name])
        return mapping_grid_values(entity_mapping=entity, approval=approval["attributes"], ids=ids)

    # A refused action answers 400 with the same body as 200 ("detail", each row's "results" and
    # the "rows" as they are), which is also a ValidationError body: the shared 400 documents it.
    @extend_schema(request=BulkSerializer, responses={200: BulkResultSerializer})
    @action(detail=False, methods=["post"])
    def bulk(self, request, engagement_slug=None):
        """One action on many rows, all or nothing: accept the top suggestion, set the status,
        the feasibility or the SME review. Answers each row's outcome and the rows as they are;
        when any row is refused nothing changes and the answer is 400 with the same body."""
        payload = BulkSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        ids = data["ids"]
        by_id = {m.pk: m for m in self.get_queryset().filter(pk__in=ids)}
        if len(by_id) != len(ids):
            raise NotFound("Some of these rows are not attribute mappings of this engagement.")
        mappings = [by_id[pk] for pk in ids]
        try:
            results = attribute_mappings_bulk(
                engagement=self.engagement,
                mappings=mappings,
                action=BulkAction(data["action"]),
                value=data["value"],
                comment=data["comment"],
                acting_user=self.acting_user,
            )
        except BulkRefused as refused:
            return self._bulk_answer(str(refused), refused.results, mappings, status=400)
        changed = sum(1 for r in results if r.outcome == "changed")
        return self._bulk_answer(f"{changed} of {len(results)} rows changed.", results, mappings)

    def _bulk_answer(self, detail, results, mappings, status=200) -> Response:
        ids = {m.pk for m in mappings}
        entities = {m.entity_mapping_id: m.entity_mapping for m in mappings}
        rows = [row for entity in entities.values() for row in self._grid_rows(entity, ids)]
        body = {
            "detail": detail,
            "results": [r.as_dict() for r in results],
            "rows": rows,
        }
        return Response(body, status=status)

    @extend_schema(request=ValidateSerializer, responses=ValidationResultSerializer)
    @action(detail=True, methods=["post"])
    def validate(self, request, engagement_slug=None, pk=None):
        """Check a rule for this attribute without saving it."""
        mapping = self.get_object()
        payload = ValidateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        checked, errors = compile_rule_context(attribute_mapping=mapping).compile_rule(
            attribute_name=mapping.attribute_name, **payload.validated_data
        )
        return Response(
            {
                "valid": not errors,
                "errors": errors,
                "warnings": [str(w) for w in checked.warnings] if checked and not errors else [],
                "lineage": checked.lineage_names() if checked else [],
                "inferred_type": checked.inferred_type if checked else "",
            }
        )

    @extend_schema(responses=SuggestionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def suggestions(self, request, engagement_slug=None, pk=None):
        """Suggest Mart columns for the attribute, best first."""
        mapping = self.get_object()
        return Response([s.as_dict() for s in attribute_suggestions(attribute_mapping=mapping)])

    @extend_schema(request=FeasibilitySerializer, responses=AttributeMappingSerializer)
    @action(detail=True, methods=["post"])
    def feasibility(self, request, engagement_slug=None, pk=None):
        """Record a feasibility verdict on the attribute mapping."""
        mapping = self.get_object()
        payload = FeasibilitySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.feasibility_set(
            mapping=mapping, acting_user=request.user, **payload.validated_data
        )
        return Response(AttributeMappingSerializer(mapping).data)

    @extend_schema(request=ReviewSerializer, responses=AttributeMappingSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, engagement_slug=None, pk=None):
        """Record the SME's review of the attribute mapping."""
        mapping = self.get_object()
        payload = ReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.sme_review_set(
            attribute_mapping=mapping, acting_user=request.user, **payload.validated_data
        )
        return Response(AttributeMappingSerializer(mapping).data)

    @extend_schema(
        request=RevertSerializer,
        responses={200: AttributeMappingSerializer, 409: ConflictSerializer},
    )
    @action(detail=True, methods=["post"])
    def revert(self, request, engagement_slug=None, pk=None):
        """Revert the attribute mapping to an earlier version of its history."""
        mapping = self.get_object()
        payload = RevertSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            mapping = services.attribute_mapping_revert(
                attribute_mapping=mapping, acting_user=request.user, **payload.validated_data
            )
        except MappingConflict as conflict:
            return _conflict(conflict, AttributeMappingSerializer)
        return Response(AttributeMappingSerializer(mapping).data)


class MappingCommentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet
):
    queryset = MappingComment.objects.select_related("author", "resolved_by")
    serializer_class = CommentSerializer
    filterset_fields = ["entity_mapping", "attribute_mapping", "kind", "resolved"]

    @extend_schema(request=CommentCreateSerializer, responses={201: CommentSerializer})
    def create(self, request, engagement_slug=None):
        payload = CommentCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        target: AttributeMapping | EntityMapping
        if data.get("attribute_mapping"):
            target = get_object_or_404(
                AttributeMapping.objects.filter(engagement=self.engagement),
                pk=data["attribute_mapping"],
            )
        else:
            target = get_object_or_404(
                EntityMapping.objects.filter(engagement=self.engagement), pk=data["entity_mapping"]
            )
        parent = None
        if data.get("parent"):
            parent = get_object_or_404(self.get_queryset(), pk=data["parent"])
        comment = services.comment_add(
            mapping=target,
            text=data["text"],
            kind=data["kind"],
            parent=parent,
            acting_user=request.user,
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CommentSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, engagement_slug=None, pk=None):
        """Resolve the comment thread."""
        comment = services.comment_resolve(comment=self.get_object(), acting_user=request.user)
        return Response(CommentSerializer(comment).data)


class GapViewSet(EngagementScopedViewSet):
    """The GAP analysis, recomputed on each request."""

    queryset = EntityMapping.objects.none()
    serializer_class = GapItemSerializer
    pagination_class = None  # computed whole on each request; clients get every item

    @extend_schema(responses=GapItemSerializer(many=True))
    def list(self, request, engagement_slug=None):
        """List the GAP items (recomputed on each request), optionally of one severity."""
        items = gap_items(engagement=self.engagement)
        severity = request.query_params.get("severity")
        if severity:
            items = [i for i in items if i.severity == severity]
        return Response([i.as_dict() for i in items])
