"""API routes of signoff, mounted under /api/v1/."""

urlpatterns: list = []
