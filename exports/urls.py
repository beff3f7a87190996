"""Page URLs of exports, mounted under /e/<slug>/."""

urlpatterns: list = []

# --- generated ETL, test runs and the Unit Test Package (issue 8) -------------------------------
from django.urls import path  # noqa: E402

from .views import etl as etl_views  # noqa: E402

urlpatterns += [
    path("etl/", etl_views.etl_overview_page, name="etl-overview"),
    path("etl/download/<str:dialect>.zip", etl_views.etl_download, name="etl-download"),
    path("etl/runs/<int:pk>/", etl_views.etl_run_page, name="etl-run"),
    path(
        "etl/runs/<int:pk>/results/<int:result_pk>/route/",
        etl_views.etl_result_route,
        name="etl-result-route",
    ),
    path(
        "etl/runs/<int:pk>/package.<str:fmt>",
        etl_views.etl_run_package,
        name="etl-run-package",
    ),
]
