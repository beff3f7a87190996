"""API routes of contracts, mounted under /api/v1/."""

urlpatterns: list = []
