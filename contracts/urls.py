"""Page URLs of contracts, mounted under /e/<slug>/."""

urlpatterns: list = []
