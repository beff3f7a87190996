from rest_framework.routers import DefaultRouter

from . import views

ENGAGEMENT = r"engagements/(?P<engagement_slug>[-\w]+)"

router = DefaultRouter()
router.register("engagements", views.EngagementViewSet, basename="api-engagement")
router.register(f"{ENGAGEMENT}/members", views.MembershipViewSet, basename="api-membership")
router.register(
    f"{ENGAGEMENT}/signoff-owners", views.SignoffOwnerViewSet, basename="api-signoff-owner"
)
router.register(f"{ENGAGEMENT}/glossary", views.GlossaryTermViewSet, basename="api-glossary-term")
router.register(f"{ENGAGEMENT}/links", views.ReferenceLinkViewSet, basename="api-reference-link")
router.register("jobs", views.JobViewSet, basename="api-job")
# The inbox is the core's; it keeps the path it had under sign-off.
router.register(
    f"{ENGAGEMENT}/signoff/notifications", views.NotificationViewSet, basename="api-notification"
)

urlpatterns = router.urls
