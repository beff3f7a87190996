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
        "etl/runs/<int:pk>/results/<int:result_pk>/uat/",
        etl_views.etl_result_raise_uat,
        name="etl-result-raise-uat",
    ),
    path(
        "etl/runs/<int:pk>/package.<str:fmt>",
        etl_views.etl_run_package,
        name="etl-run-package",
    ),
    path(
        "etl/runs/<int:pk>/reconciliation.<str:fmt>",
        etl_views.etl_run_reconciliation,
        name="etl-run-reconciliation",
    ),
]

# --- the Master Mapping Specification, GAP and KT documents (issue 7) --------------------------
from .views import spec as spec_views  # noqa: E402

urlpatterns += [
    path("spec/", spec_views.spec_home, name="spec-home"),
    path("spec/download/", spec_views.spec_download, name="spec-download"),
    path("spec/export/", spec_views.spec_export_start, name="spec-export-start"),
    path("spec/jobs/<int:pk>/", spec_views.spec_job, name="spec-job"),
    path("spec/jobs/<int:pk>/download/", spec_views.spec_job_download, name="spec-job-download"),
    path("spec/import/", spec_views.spec_import, name="spec-import"),
    path("spec/imports/<int:pk>/", spec_views.spec_import_detail, name="spec-import-detail"),
    path("spec/imports/<int:pk>/apply/", spec_views.spec_import_apply, name="spec-import-apply"),
    path("spec/imports/<int:pk>/cancel/", spec_views.spec_import_cancel, name="spec-import-cancel"),
    path("gap/", spec_views.gap_document, name="gap-document"),
    path("gap/gap.xlsx", spec_views.gap_document_xlsx, name="gap-document-xlsx"),
    path("kt/", spec_views.kt_index, name="kt-index"),
    path("kt/mapping/", spec_views.kt_mapping, name="kt-mapping"),
    path("kt/troubleshooting/", spec_views.kt_troubleshooting, name="kt-troubleshooting"),
    path("kt/entities/<str:name>/", spec_views.kt_entity, name="kt-entity"),
    path("kt/download.zip", spec_views.kt_download, name="kt-download"),
]
