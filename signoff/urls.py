"""Page URLs of signoff, mounted under /e/<slug>/."""

urlpatterns: list = []
