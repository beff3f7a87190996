"""Page URLs of the catalog, mounted under /e/<slug>/mapping/ beside the mapping's own (paths kept
as they were when the catalog lived in `mappings`)."""

from django.urls import path

from . import views as catalog

urlpatterns = [
    path("sources/", catalog.source_list, name="source-list"),
    path("sources/import/", catalog.catalog_import, name="catalog-import"),
    path("sources/<int:pk>/", catalog.source_edit, name="source-edit"),
    path("sources/<int:pk>/test/", catalog.source_test, name="source-test"),
    path("sources/<int:pk>/introspect/", catalog.source_introspect, name="source-introspect"),
    path("sources/<int:pk>/profile/", catalog.source_profile, name="source-profile"),
    path("catalog/", catalog.catalog, name="catalog"),
    path("catalog/erd/", catalog.catalog_erd, name="catalog-erd"),
    path("catalog/tables/<int:pk>/", catalog.catalog_table, name="catalog-table"),
    path(
        "catalog/tables/<int:pk>/columns/<int:column_pk>/note/",
        catalog.column_note,
        name="catalog-column-note",
    ),
    path("catalog/tables/<int:pk>/impacted/", catalog.impacted_add, name="impacted-add"),
    path(
        "catalog/tables/<int:pk>/impacted/<int:link_pk>/remove/",
        catalog.impacted_remove,
        name="impacted-remove",
    ),
    path("source-notes/", catalog.source_understanding_notes, name="source-notes"),
]
