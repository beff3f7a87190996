"""Page URLs of exports, mounted under /e/<slug>/."""

urlpatterns: list = []
