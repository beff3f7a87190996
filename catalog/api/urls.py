"""API routes of the catalog, mounted under /api/v1/."""

from rest_framework.routers import DefaultRouter

from . import views

ENGAGEMENT = r"engagements/(?P<engagement_slug>[-\w]+)"

router = DefaultRouter()
router.include_root_view = False
router.register(f"{ENGAGEMENT}/sources", views.SourceSystemViewSet, basename="api-source-system")
router.register(
    f"{ENGAGEMENT}/catalog/tables", views.CatalogTableViewSet, basename="api-catalog-table"
)
router.register(
    f"{ENGAGEMENT}/catalog/columns", views.CatalogColumnViewSet, basename="api-catalog-column"
)
router.register(
    f"{ENGAGEMENT}/catalog/profiles", views.ColumnProfileViewSet, basename="api-column-profile"
)
router.register(
    f"{ENGAGEMENT}/catalog/impacted-entities",
    views.ImpactedEntityViewSet,
    basename="api-impacted-entity",
)

urlpatterns = router.urls
