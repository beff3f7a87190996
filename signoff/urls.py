"""Page URLs of signoff, mounted under /e/<slug>/signoff/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.signoff_overview, name="signoff-overview"),
    path("versions/<int:number>/", views.signoff_version, name="signoff-version"),
    path("reviews/<int:pk>/", views.signoff_review, name="signoff-review"),
    path("uat/", views.signoff_uat, name="signoff-uat"),
    path(
        "uat/<int:pk>/resolve/",
        views.signoff_uat_move,
        {"move": "resolve"},
        name="signoff-uat-resolve",
    ),
    path(
        "uat/<int:pk>/reopen/",
        views.signoff_uat_move,
        {"move": "reopen"},
        name="signoff-uat-reopen",
    ),
    path("cutover/", views.signoff_cutover, name="signoff-cutover"),
    path("audit/", views.signoff_audit, name="signoff-audit"),
]
