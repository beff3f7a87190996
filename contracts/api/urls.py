"""API routes of contracts, mounted under /api/v1/."""

from rest_framework.routers import DefaultRouter

from . import views

ENGAGEMENT = r"engagements/(?P<engagement_slug>[-\w]+)"

router = DefaultRouter()
router.include_root_view = False
router.register(
    f"{ENGAGEMENT}/contract/layers", views.InterfaceLayerViewSet, basename="api-interface-layer"
)
router.register(
    f"{ENGAGEMENT}/contract/entities", views.InterfaceEntityViewSet, basename="api-interface-entity"
)
router.register(
    f"{ENGAGEMENT}/contract/attributes",
    views.InterfaceAttributeViewSet,
    basename="api-interface-attribute",
)
router.register(
    f"{ENGAGEMENT}/contract/notes", views.InterfaceNoteViewSet, basename="api-interface-note"
)

urlpatterns = router.urls
