"""API routes of exports, mounted under /api/v1/."""

urlpatterns: list = []
