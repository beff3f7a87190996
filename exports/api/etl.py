"""API of test runs: list and read runs with their unit tests, start one (a Job), route a failing
test, download the Unit Test Package. Thin: views call services."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.models import SourceSystem
from workbench.api.base import EngagementScopedViewSet

from ..services import testrun as services
from ..testrun.choices import FailureRoute
from ..testrun.models import TestRun, UnitTestResult
from ..testrun.package import package_markdown, package_xlsx
from .spec import XLSX


class UnitTestResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = UnitTestResult
        fields = [
            "id",
            "position",
            "name",
            "test_type",
            "entity_name",
            "attribute_name",
            "attribute_mapping",
            "description",
            "sql",
            "expected",
            "actual",
            "passed",
            "sample_rows",
            "route",
            "comments",
        ]


class TestRunSerializer(serializers.ModelSerializer):
    started_by = serializers.CharField(
        source="started_by.username", read_only=True, allow_null=True
    )
    status = serializers.CharField(
        read_only=True, help_text="running, passed, failed (tests failed) or error (stopped)."
    )

    class Meta:
        model = TestRun
        fields = [
            "id",
            "status",
            "source_url",
            "target_url",
            "source_schema",
            "target_schema",
            "dialect",
            "content_hash",
            "rows_loaded",
            "entities_loaded",
            "entity_rows",
            "skipped",
            "tests_total",
            "tests_failed",
            "message",
            "started_by",
            "started_at",
            "finished_at",
            "job",
        ]


class TestRunDetailSerializer(TestRunSerializer):
    results = UnitTestResultSerializer(many=True, read_only=True)

    class Meta(TestRunSerializer.Meta):
        fields = [*TestRunSerializer.Meta.fields, "results"]


class TestRunStartSerializer(serializers.Serializer):
    source_system = serializers.IntegerField(required=False, allow_null=True)
    source_url = serializers.CharField(required=False, allow_blank=True, default="")
    source_schema = serializers.CharField(required=False, allow_blank=True, default="")
    target_url = serializers.CharField()
    target_schema = serializers.CharField(required=False, allow_blank=True, default="")


class RouteSerializer(serializers.Serializer):
    route = serializers.ChoiceField(choices=FailureRoute.choices)
    comments = serializers.CharField(required=False, allow_blank=True, default="")


class JobStartedSerializer(serializers.Serializer):
    job = serializers.IntegerField()
    state = serializers.CharField()


class TestRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, EngagementScopedViewSet):
    """ETL test runs of the engagement, newest first, each with its unit tests."""

    queryset = TestRun.objects.select_related("started_by")
    filterset_fields = ["status"]

    def get_serializer_class(self):
        return TestRunDetailSerializer if self.action == "retrieve" else TestRunSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("results")
        return queryset

    @extend_schema(request=TestRunStartSerializer, responses={202: JobStartedSerializer})
    def create(self, request, engagement_slug=None):
        data = TestRunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        source = None
        if values.pop("source_system", None):
            source = get_object_or_404(
                SourceSystem.objects.filter(engagement=self.engagement),
                pk=request.data["source_system"],
            )
        job = services.etl_run_start(
            engagement=self.engagement, source_system=source, acting_user=request.user, **values
        )
        return Response({"job": job.pk, "state": job.state}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=RouteSerializer, responses={200: UnitTestResultSerializer})
    @action(detail=True, methods=["post"], url_path=r"results/(?P<result_pk>\d+)/route")
    def route(self, request, engagement_slug=None, pk=None, result_pk=None):
        """Route a failed unit test to the team that fixes it."""
        run = self.get_object()
        result = get_object_or_404(UnitTestResult.objects.filter(run=run), pk=result_pk)
        data = RouteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.unit_test_route(
            result=result, acting_user=request.user, **data.validated_data
        )
        return Response(UnitTestResultSerializer(result).data)

    @extend_schema(
        summary="Download the Unit Test Package (Excel workbook or Markdown)",
        responses={
            (200, XLSX): OpenApiTypes.BINARY,
            (200, "text/markdown"): OpenApiTypes.STR,
        },
    )
    @action(detail=True, methods=["get"], url_path=r"package\.(?P<fmt>xlsx|md)")
    def package(self, request, engagement_slug=None, pk=None, fmt="xlsx"):
        run = self.get_object()
        if fmt == "xlsx":
            response = HttpResponse(
                package_xlsx(run),
                content_type=XLSX,
            )
        else:
            response = HttpResponse(package_markdown(run), content_type="text/markdown")
        response["Content-Disposition"] = f'attachment; filename="unit-test-package-{run.pk}.{fmt}"'
        return response
