"""API views of the engagement core: thin — resolve, call a service, serialize."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from workbench import selectors, services
from workbench.models import (
    GlossaryTerm,
    Job,
    Membership,
    Notification,
    ReferenceLink,
    SignoffOwner,
)

from .base import EngagementScopedViewSet
from .serializers import (
    DemoJobSerializer,
    EngagementPhaseSerializer,
    EngagementSerializer,
    EngagementStatusSerializer,
    EngagementUpdateSerializer,
    GlossaryTermSerializer,
    JobSerializer,
    MembershipInviteSerializer,
    MembershipRoleSerializer,
    MembershipSerializer,
    NotificationSerializer,
    ReferenceLinkSerializer,
    SignoffOwnerSerializer,
)


class EngagementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = EngagementSerializer
    lookup_field = "slug"
    filterset_class = selectors.EngagementFilter

    def get_queryset(self):
        return selectors.engagement_list(user=self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return page if page is None else selectors.with_current_phase(page)

    def create(self, request):
        serializer = EngagementSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        engagement = services.engagement_create(
            **serializer.validated_data, acting_user=request.user
        )
        return Response(EngagementSerializer(engagement).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EngagementUpdateSerializer, responses=EngagementSerializer)
    def partial_update(self, request, slug=None):
        engagement = self.get_object()
        serializer = EngagementUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.engagement_update(
            engagement=engagement, data=serializer.validated_data, acting_user=request.user
        )
        return Response(EngagementSerializer(engagement).data)

    @extend_schema(request=EngagementStatusSerializer, responses=EngagementSerializer)
    @action(detail=True, methods=["post"], url_path="set-status")
    def set_status(self, request, slug=None):
        """Change the engagement's status."""
        engagement = self.get_object()
        serializer = EngagementStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.engagement_set_status(
            engagement=engagement,
            status=serializer.validated_data["status"],
            acting_user=request.user,
        )
        return Response(EngagementSerializer(engagement).data)

    @extend_schema(request=EngagementPhaseSerializer, responses=EngagementSerializer)
    @action(detail=True, methods=["post"], url_path="set-phase")
    def set_phase(self, request, slug=None):
        """Move the engagement to another phase."""
        engagement = self.get_object()
        serializer = EngagementPhaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.engagement_set_phase(
            engagement=engagement,
            phase=serializer.validated_data["current_phase"],
            acting_user=request.user,
        )
        return Response(EngagementSerializer(engagement).data)

    @extend_schema(request=DemoJobSerializer, responses={202: JobSerializer})
    @action(detail=True, methods=["post"], url_path="demo-job")
    def demo_job(self, request, slug=None):
        """Start the demo background job (it counts steps)."""
        if not services.demo_job_enabled():
            raise NotFound("The demo job runs only in development.")
        engagement = self.get_object()
        serializer = DemoJobSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.demo_job_start(
            engagement=engagement, acting_user=request.user, **serializer.validated_data
        )
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    EngagementScopedViewSet,
):
    queryset = Membership.objects.select_related("user")
    serializer_class = MembershipSerializer
    filterset_fields = ["role"]

    def create(self, request, engagement_slug=None):
        serializer = MembershipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_add(
            engagement=self.engagement,
            username=serializer.validated_data["user"]["username"],
            role=serializer.validated_data["role"],
            acting_user=request.user,
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MembershipRoleSerializer, responses=MembershipSerializer)
    def partial_update(self, request, engagement_slug=None, pk=None):
        membership = self.get_object()
        serializer = MembershipRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.membership_change_role(
            membership=membership, role=serializer.validated_data["role"], acting_user=request.user
        )
        return Response(MembershipSerializer(membership).data)

    def perform_destroy(self, instance):
        services.membership_remove(membership=instance, acting_user=self.acting_user)

    @extend_schema(request=MembershipInviteSerializer, responses={201: MembershipSerializer})
    @action(detail=False, methods=["post"])
    def invite(self, request, engagement_slug=None):
        """Create an account for someone new, make them a member and e-mail a password-set link."""
        serializer = MembershipInviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_invite(
            engagement=self.engagement, acting_user=request.user, **serializer.validated_data
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=MembershipSerializer)
    @action(detail=True, methods=["post"], url_path="resend-invitation")
    def resend_invitation(self, request, engagement_slug=None, pk=None):
        """E-mail an invited member who has not chosen a password yet a fresh password-set link."""
        membership = services.membership_resend_invitation(
            membership=self.get_object(), acting_user=request.user
        )
        return Response(MembershipSerializer(membership).data)


class SignoffOwnerViewSet(mixins.ListModelMixin, EngagementScopedViewSet):
    """Named sign-off owners; POST names (or replaces) the owner of a gate."""

    queryset = SignoffOwner.objects.select_related("user")
    serializer_class = SignoffOwnerSerializer

    def create(self, request, engagement_slug=None):
        serializer = SignoffOwnerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        owner = services.signoff_owner_set(
            engagement=self.engagement,
            gate=serializer.validated_data["gate"],
            username=serializer.validated_data["user"]["username"],
            acting_user=request.user,
        )
        return Response(SignoffOwnerSerializer(owner).data, status=status.HTTP_201_CREATED)


class _CollectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    EngagementScopedViewSet,
):
    """CRUD over an engagement's collection, with the writes delegated to three services."""

    create_service: ClassVar[Callable[..., Any]]
    update_service: ClassVar[Callable[..., Any]]
    delete_service: ClassVar[Callable[..., Any]]
    instance_arg = ""

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(
            engagement=self.engagement,
            data=serializer.validated_data,
            acting_user=self.request.user,
        )

    def perform_update(self, serializer):
        type(self).update_service(
            **{self.instance_arg: serializer.instance},
            data=serializer.validated_data,
            acting_user=self.request.user,
        )

    def perform_destroy(self, instance):
        type(self).delete_service(**{self.instance_arg: instance}, acting_user=self.request.user)


class GlossaryTermViewSet(_CollectionViewSet):
    queryset = GlossaryTerm.objects.all()
    serializer_class = GlossaryTermSerializer
    instance_arg = "term"
    create_service = services.glossary_term_create
    update_service = services.glossary_term_update
    delete_service = services.glossary_term_delete


class ReferenceLinkViewSet(_CollectionViewSet):
    queryset = ReferenceLink.objects.all()
    serializer_class = ReferenceLinkSerializer
    filterset_fields = ["kind"]
    instance_arg = "link"
    create_service = services.link_create
    update_service = services.link_update
    delete_service = services.link_delete


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = JobSerializer
    filterset_fields = ["kind", "state"]

    def get_queryset(self):
        return Job.objects.restrict(self.request.user).select_related("engagement", "started_by")


class NotificationViewSet(mixins.ListModelMixin, EngagementScopedViewSet):
    """The requesting user's inbox lines of this engagement; mark them read."""

    queryset = Notification.objects.select_related("engagement", "actor")
    serializer_class = NotificationSerializer
    filterset_fields = ["kind"]

    def get_queryset(self):
        return super().get_queryset().filter(recipient=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, engagement_slug=None, pk=None):
        """Mark the notification read."""
        note = services.notification_mark_read(
            notification=self.get_object(), acting_user=request.user
        )
        return Response(NotificationSerializer(note).data)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request, engagement_slug=None):
        """Mark every notification of the engagement read."""
        self.engagement  # noqa: B018 — 404 for outsiders
        return Response({"marked": services.notification_mark_all_read(acting_user=request.user)})
