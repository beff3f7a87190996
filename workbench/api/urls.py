from rest_framework.routers import DefaultRouter

from . import views

ENGAGEMENT = r"engagements/(?P<engagement_slug>[-\w]+)"

router = DefaultRouter()
router.register("engagements", views.EngagementViewSet, basename="engagement")
router.register(f"{ENGAGEMENT}/members", views.MembershipViewSet, basename="membership")
router.register(f"{ENGAGEMENT}/signoff-owners", views.SignoffOwnerViewSet, basename="signoff-owner")
router.register(f"{ENGAGEMENT}/glossary", views.GlossaryTermViewSet, basename="glossary-term")
router.register(f"{ENGAGEMENT}/links", views.ReferenceLinkViewSet, basename="reference-link")
router.register("jobs", views.JobViewSet, basename="job")

urlpatterns = router.urls
