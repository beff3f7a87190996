"""API routes of exports, mounted under /api/v1/."""

urlpatterns: list = []

# --- ETL test runs (issue 8) -------------------------------------------------------------------
from rest_framework.routers import DefaultRouter  # noqa: E402

from . import etl as etl_api  # noqa: E402

_etl_router = DefaultRouter()
_etl_router.include_root_view = False
_etl_router.register(
    r"engagements/(?P<engagement_slug>[-\w]+)/etl/runs",
    etl_api.TestRunViewSet,
    basename="api-etl-run",
)
urlpatterns += _etl_router.urls

# --- the Master Mapping Specification (issue 7) ------------------------------------------------
from . import spec as spec_api  # noqa: E402

_spec_router = DefaultRouter()
_spec_router.include_root_view = False
_spec_router.register(
    r"engagements/(?P<engagement_slug>[-\w]+)/spec-imports",
    spec_api.SpecImportViewSet,
    basename="api-spec-import",
)
_spec_router.register(
    r"engagements/(?P<engagement_slug>[-\w]+)/spec/workbook",
    spec_api.SpecWorkbookViewSet,
    basename="api-spec-workbook",
)
urlpatterns += _spec_router.urls
