"""Root URLs: pages under /e/<slug>/, the API under /api/v1/, its schema and docs, auth, admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

engagement_patterns = [
    path("", views.engagement_dashboard, name="engagement-dashboard"),
    path("settings/", views.engagement_settings, name="engagement-settings"),
    path("members/", views.member_list, name="member-list"),
    path("members/candidates/", views.member_candidates, name="member-candidates"),
    path("members/<int:pk>/", views.member_change, name="member-change"),
    path("signoff-owners/", views.signoff_owners, name="signoff-owners"),
    path("glossary/", views.glossary, name="glossary"),
    path("glossary/<int:pk>/", views.glossary_edit, name="glossary-edit"),
    path("links/", views.links, name="links"),
    path("links/<int:pk>/", views.link_edit, name="link-edit"),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("contract/", include("contracts.urls")),
    path("mapping/", include("catalog.urls")),
    path("mapping/", include("mappings.urls")),
    # The inbox is the core's; it keeps the path and name it had under sign-off.
    path("signoff/inbox/", views.inbox, name="signoff-inbox"),
    path("signoff/", include("signoff.urls")),
    path("exports/", include("exports.urls")),
]

api_patterns = [
    path("", include("workbench.api.urls")),
    path("", include("contracts.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("mappings.api.urls")),
    path("", include("signoff.api.urls")),
    path("", include("exports.api.urls")),
]

urlpatterns = [
    path("", views.engagement_list, name="engagement-list"),
    path("engagements/new/", views.engagement_create, name="engagement-create"),
    path("e/<slug:slug>/", include(engagement_patterns)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/set/<uidb64>/<token>/", views.PasswordSetView.as_view(), name="password-set"),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its set-up script as a file: no inline script under the CSP.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("tokens/", views.api_token_list, name="api-token-list"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("admin/", admin.site.urls),
]

handler404 = "workbench.api.exceptions.not_found"
