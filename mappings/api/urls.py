"""API routes of mappings, mounted under /api/v1/."""

urlpatterns: list = []
