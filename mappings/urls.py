"""Page URLs of mappings, mounted under /e/<slug>/mapping/."""

from django.urls import path

from . import views as mapping_views

urlpatterns = [
    path("", mapping_views.mapping_overview, name="mapping-overview"),
    path("prepare/", mapping_views.mapping_prepare, name="mapping-prepare"),
    path("gap/", mapping_views.gap, name="mapping-gap"),
    path("gap/summary/", mapping_views.mapping_gap_summary, name="mapping-gap-summary"),
    path("gap.csv", mapping_views.gap_csv, name="mapping-gap-csv"),
    path("entities/<int:pk>/", mapping_views.mapping_entity, name="mapping-entity"),
    path("entities/<int:pk>/save/", mapping_views.mapping_entity_save, name="mapping-entity-save"),
    path("attributes/<int:pk>/", mapping_views.attribute_detail, name="mapping-attribute"),
    path("attributes/<int:pk>/row/", mapping_views.attribute_row, name="mapping-row"),
    path("attributes/<int:pk>/edit/", mapping_views.attribute_edit, name="mapping-row-edit"),
    path(
        "attributes/<int:pk>/suggestions/",
        mapping_views.attribute_suggestions_view,
        name="mapping-suggestions",
    ),
    path(
        "attributes/<int:pk>/validate/", mapping_views.attribute_validate, name="mapping-validate"
    ),
    path("attributes/<int:pk>/revert/", mapping_views.attribute_revert, name="mapping-revert"),
    path("attributes/<int:pk>/review/", mapping_views.review, name="mapping-review"),
    path(
        "entities/<int:pk>/feasibility/",
        mapping_views.feasibility,
        {"kind": "entity"},
        name="mapping-entity-feasibility",
    ),
    path(
        "attributes/<int:pk>/feasibility/",
        mapping_views.feasibility,
        {"kind": "attribute"},
        name="mapping-feasibility",
    ),
    path(
        "entities/<int:pk>/comments/",
        mapping_views.comment_create,
        {"kind": "entity"},
        name="mapping-entity-comment",
    ),
    path(
        "attributes/<int:pk>/comments/",
        mapping_views.comment_create,
        {"kind": "attribute"},
        name="mapping-comment",
    ),
    path(
        "comments/<int:pk>/resolve/", mapping_views.comment_resolve, name="mapping-comment-resolve"
    ),
]
