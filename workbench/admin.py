from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
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
