"""Base classes for engagement-scoped API endpoints: /api/v1/engagements/<slug>/<things>/.

The engagement is resolved through `Engagement.objects.restrict(user)`, so an outsider gets 404;
writes go through services, which check the policy (403 for members without the right).
"""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from rest_framework import viewsets

from workbench.models import Engagement


class EngagementScopedViewSet(viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"

    @cached_property
    def engagement(self) -> Engagement:
        return get_object_or_404(
            Engagement.objects.restrict(self.request.user), slug=self.kwargs["engagement_slug"]
        )

    @property
    def acting_user(self) -> User:
        """The signed-in user: the API's permission class (IsAuthenticated) admits no one else."""
        user = self.request.user
        assert isinstance(user, User)
        return user

    def get_queryset(self):
        return super().get_queryset().filter(engagement=self.engagement)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "engagement_slug" in self.kwargs:
            context["engagement"] = self.engagement
        return context
