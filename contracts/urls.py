"""Page URLs of contracts, mounted under /e/<slug>/contract/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.contract_overview, name="contract-overview"),
    path("import/", views.contract_import, name="contract-import"),
    path("entities/<str:entity_name>/", views.contract_entity, name="contract-entity"),
    path("mandatory/", views.contract_mandatory, name="contract-mandatory"),
    path("semantics/", views.contract_semantics, name="contract-semantics"),
    path("erd/", views.contract_erd, name="contract-erd"),
    path("versions/<int:pk>/diff/", views.contract_diff, name="contract-diff"),
    path("versions/<int:pk>/publish/", views.contract_publish, name="contract-publish"),
    path("versions/<int:pk>/discard/", views.contract_discard, name="contract-discard"),
    path("versions/<int:pk>/export/", views.contract_export, name="contract-export"),
    path("notes/", views.note_create, name="contract-note-create"),
    path("notes/<int:pk>/", views.note_edit, name="contract-note-edit"),
]
