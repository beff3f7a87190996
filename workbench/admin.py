from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import (
    ApiToken,
    Engagement,
    GlossaryTerm,
    Job,
    Membership,
    Notification,
    ReferenceLink,
    SignoffOwner,
)


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """For records that change only through their services (so policy and history hold): the
    admin shows them and their history, and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Engagement)
class EngagementAdmin(SimpleHistoryAdmin):
    list_display = ["slug", "name", "client", "status", "current_phase"]
    search_fields = ["slug", "name", "client"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["engagement", "user", "role"]
    list_filter = ["role"]


admin.site.register(SignoffOwner, SimpleHistoryAdmin)
admin.site.register(GlossaryTerm, SimpleHistoryAdmin)
admin.site.register(ReferenceLink, SimpleHistoryAdmin)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "engagement", "state", "progress", "created_at"]
    list_filter = ["state", "kind"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyHistoryAdmin):
    list_display = ["recipient", "engagement", "kind", "subject", "created_at", "read_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by their owners (page or command); the admin shows them, never a key
    (only its hash), and a superuser can revoke one — through the service, like everyone."""

    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "state"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = [
        "user",
        "name",
        "key_hash",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        try:
            for token in queryset:
                services.token_revoke(token=token, acting_user=request.user)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{queryset.count()} token(s) revoked.")
