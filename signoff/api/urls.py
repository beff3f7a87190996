"""API routes of signoff, mounted under /api/v1/."""

from rest_framework.routers import DefaultRouter

from . import views

ENGAGEMENT = r"engagements/(?P<engagement_slug>[-\w]+)/signoff"

router = DefaultRouter()
router.include_root_view = False
router.register(f"{ENGAGEMENT}/versions", views.SpecVersionViewSet, basename="api-spec-version")
router.register(f"{ENGAGEMENT}/reviews", views.ReviewViewSet, basename="api-review")
router.register(f"{ENGAGEMENT}/uat-items", views.UatItemViewSet, basename="api-uat-item")
router.register(f"{ENGAGEMENT}/cutover", views.CutoverViewSet, basename="api-cutover")
router.register(f"{ENGAGEMENT}/audit", views.AuditEventViewSet, basename="api-signoff-audit")

urlpatterns = router.urls
