"""API views of signoff: thin — resolve, call a service or a selector, serialize. Workflow moves
are @actions with their own input serializers; refusals come back as 400 (rule) or 403 (who)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from workbench import policy
from workbench.api.base import EngagementScopedViewSet
from workbench.policy import Action

from .. import selectors, services
from ..choices import Verdict
from ..filters import AuditEventFilter
from ..models import AuditEvent, CutoverItem, ReviewRequest, SpecVersion, UatItem
from .serializers import (
    AuditEventSerializer,
    CancelInputSerializer,
    CutoverChecklistSerializer,
    CutoverItemSerializer,
    DecideInputSerializer,
    FieldChangeSerializer,
    FreezeInputSerializer,
    ReopenInputSerializer,
    ResolveInputSerializer,
    ReviewSerializer,
    SignoffRowSerializer,
    SpecVersionDetailSerializer,
    SpecVersionSerializer,
    SubmitInputSerializer,
    TickInputSerializer,
    UatItemInputSerializer,
    UatItemSerializer,
    UntickInputSerializer,
)


class SpecVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet):
    """Immutable spec versions, looked up by number; freeze one with POST."""

    queryset = SpecVersion.objects.select_related("created_by").order_by("-number")
    serializer_class = SpecVersionSerializer
    lookup_field = "number"

    def get_serializer_class(self):
        return SpecVersionDetailSerializer if self.action == "retrieve" else SpecVersionSerializer

    def list(self, request, *args, **kwargs):
        self.queryset = self.queryset.defer("snapshot")
        return super().list(request, *args, **kwargs)

    @extend_schema(request=FreezeInputSerializer, responses={201: SpecVersionSerializer})
    def create(self, request, engagement_slug=None):
        """Freeze the working mapping as a new spec version."""
        policy.check(request.user, self.engagement, Action.SUBMIT_FOR_REVIEW)  # 403 before 400
        data = FreezeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.do_submit_version(
            engagement=self.engagement,
            entities=data.validated_data["entities"],
            note=data.validated_data["note"],
            acting_user=request.user,
        )
        return Response(SpecVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "against", OpenApiTypes.STR, description="A version number, or 'current' (default)"
            )
        ],
        responses=FieldChangeSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, engagement_slug=None, number=None):
        """Changes from this version to a later one or to the working mapping."""
        version = self.get_object()
        against = request.query_params.get("against", "current")
        other = None
        if against != "current":
            other = get_object_or_404(
                SpecVersion,
                engagement=self.engagement,
                number=int(against) if against.isdigit() else 0,
            )
        changes = selectors.version_diff(version=version, against=other)
        return Response([c.as_dict() for c in changes])

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"], url_path="changed-since-signoff")
    def changed_since_signoff(self, request, engagement_slug=None):
        """What changed in the mapping since the last sign-off."""
        changed = selectors.changed_since_signoff(engagement=self.engagement)
        return Response(
            {
                "changed": changed["changed"],
                "entities": changed["entities"],
                "attributes": [
                    {"entity": entity, "attribute": attribute, **data}
                    for (entity, attribute), data in sorted(changed["attributes"].items())
                ],
            }
        )

    @extend_schema(responses=SignoffRowSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="signoff-table")
    def signoff_table(self, request, engagement_slug=None):
        """Every sign-off decision of every gate, oldest first."""
        return Response(selectors.signoff_table(engagement=self.engagement))


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet):
    """Review requests per gate; submit with POST, move them with the actions."""

    queryset = (
        ReviewRequest.objects.select_related("version", "requested_by")
        .defer("version__snapshot")
        .prefetch_related("decisions__decided_by", "decisions__version")
    )
    serializer_class = ReviewSerializer
    filterset_fields = ["gate", "state"]

    @extend_schema(request=SubmitInputSerializer, responses={201: ReviewSerializer})
    def create(self, request, engagement_slug=None):
        """Submit a spec version for review at a gate."""
        policy.check(request.user, self.engagement, Action.SUBMIT_FOR_REVIEW)  # 403 before 400
        data = SubmitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values.get("version"):
            version = get_object_or_404(
                SpecVersion, engagement=self.engagement, number=values["version"]
            )
            review = services.do_request_review(
                version=version,
                gate=values["gate"],
                message=values["message"],
                acting_user=request.user,
            )
        else:
            review = services.do_submit_for_review(
                engagement=self.engagement,
                gate=values["gate"],
                entities=values["entities"],
                message=values["message"],
                acting_user=request.user,
            )
        return Response(self._out(review), status=status.HTTP_201_CREATED)

    def _out(self, review) -> dict:
        return ReviewSerializer(self.get_queryset().get(pk=review.pk)).data

    @extend_schema(request=None, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, engagement_slug=None, pk=None):
        """Start reviewing the request."""
        review = services.do_start_review(review=self.get_object(), acting_user=request.user)
        return Response(self._out(review))

    @extend_schema(request=DecideInputSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, engagement_slug=None, pk=None):
        """Approve the review request."""
        return self._decide(request, Verdict.APPROVE)

    @extend_schema(request=DecideInputSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, engagement_slug=None, pk=None):
        """Reject the review request."""
        return self._decide(request, Verdict.REJECT)

    def _decide(self, request, verdict):
        review = self.get_object()
        data = DecideInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.do_decide(
            review=review,
            verdict=verdict,
            comment=data.validated_data["comment"],
            acting_user=request.user,
        )
        return Response(self._out(review))

    @extend_schema(request=CancelInputSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, engagement_slug=None, pk=None):
        """Cancel the review request."""
        target = self.get_object()  # 404 before 400
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.do_cancel_review(
            review=target, reason=data.validated_data["reason"], acting_user=request.user
        )
        return Response(self._out(review))


class UatItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet):
    queryset = UatItem.objects.select_related("owner", "raised_by", "resolved_by")
    serializer_class = UatItemSerializer
    filterset_fields = ["state", "classification", "entity_name"]

    @extend_schema(request=UatItemInputSerializer, responses={201: UatItemSerializer})
    def create(self, request, engagement_slug=None):
        """Raise a UAT item."""
        policy.check(request.user, self.engagement, Action.RAISE_UAT_FEEDBACK)  # 403 before 400
        data = UatItemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.do_raise_uat_item(
            engagement=self.engagement, data=data.validated_data, acting_user=request.user
        )
        return Response(UatItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ResolveInputSerializer, responses=UatItemSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, engagement_slug=None, pk=None):
        """Resolve the UAT item."""
        target = self.get_object()  # 404 before 400
        data = ResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.do_resolve_uat_item(
            item=target,
            resolution=data.validated_data["resolution"],
            acting_user=request.user,
        )
        return Response(UatItemSerializer(item).data)

    @extend_schema(request=ReopenInputSerializer, responses=UatItemSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, engagement_slug=None, pk=None):
        """Reopen a resolved UAT item."""
        target = self.get_object()  # 404 before 400
        data = ReopenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.do_reopen_uat_item(
            item=target, reason=data.validated_data["reason"], acting_user=request.user
        )
        return Response(UatItemSerializer(item).data)


class CutoverViewSet(EngagementScopedViewSet):
    """The cutover checklist (one row per step); tick and untick are actions."""

    queryset = CutoverItem.objects.all()
    serializer_class = CutoverItemSerializer
    pagination_class = None

    def _checklist(self):
        items = selectors.cutover_checklist(engagement=self.engagement)
        return {
            "engagement_status": self.engagement.status,
            "steps": CutoverItemSerializer(items, many=True).data,
        }

    @extend_schema(responses=CutoverChecklistSerializer)
    def list(self, request, engagement_slug=None):
        """Show the cutover checklist, one row per step."""
        return Response(self._checklist())

    @extend_schema(request=TickInputSerializer, responses=CutoverChecklistSerializer)
    @action(detail=False, methods=["post"])
    def tick(self, request, engagement_slug=None):
        """Tick a cutover step (with an evidence link or note)."""
        policy.check(request.user, self.engagement, Action.TICK_CUTOVER)  # 403 before 400
        data = TickInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.do_tick_cutover(
            engagement=self.engagement, acting_user=request.user, **data.validated_data
        )
        self.engagement.refresh_from_db()
        return Response(self._checklist())

    @extend_schema(request=UntickInputSerializer, responses=CutoverChecklistSerializer)
    @action(detail=False, methods=["post"])
    def untick(self, request, engagement_slug=None):
        """Untick a cutover step."""
        policy.check(request.user, self.engagement, Action.TICK_CUTOVER)  # 403 before 400
        data = UntickInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.do_untick_cutover(
            engagement=self.engagement, acting_user=request.user, step=data.validated_data["step"]
        )
        return Response(self._checklist())


class AuditEventViewSet(mixins.ListModelMixin, EngagementScopedViewSet):
    """Every decision and state change, filtered like the audit page (gate, kind, actor, dates)."""

    queryset = (
        AuditEvent.objects.select_related("actor", "version")
        .defer("version__snapshot")
        .order_by("-created_at", "-id")
    )
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
