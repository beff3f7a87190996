"""Page URLs of mappings, mounted under /e/<slug>/."""

urlpatterns: list = []
