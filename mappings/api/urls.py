"""API routes of mappings, mounted under /api/v1/."""

from rest_framework.routers import DefaultRouter

from . import views

ENGAGEMENT = r"engagements/(?P<engagement_slug>[-\w]+)"

router = DefaultRouter()
router.include_root_view = False
router.register(
    f"{ENGAGEMENT}/entity-mappings", views.EntityMappingViewSet, basename="api-entity-mapping"
)
router.register(
    f"{ENGAGEMENT}/attribute-mappings",
    views.AttributeMappingViewSet,
    basename="api-attribute-mapping",
)
router.register(
    f"{ENGAGEMENT}/mapping-comments", views.MappingCommentViewSet, basename="api-mapping-comment"
)
router.register(f"{ENGAGEMENT}/gap", views.GapViewSet, basename="api-gap")

urlpatterns = router.urls
