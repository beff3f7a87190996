"""Admin of signoff: read-only views of the records (every change goes through the services)."""

from django.contrib import admin

from workbench.admin import ReadOnlyHistoryAdmin

from .models import (
    AuditEvent,
    CutoverItem,
    Decision,
    ReviewRequest,
    SpecVersion,
    UatItem,
)


@admin.register(SpecVersion)
class SpecVersionAdmin(ReadOnlyHistoryAdmin):
    list_display = ["engagement", "number", "content_hash", "created_by", "created_at"]
    list_filter = ["engagement"]


@admin.register(ReviewRequest)
class ReviewRequestAdmin(ReadOnlyHistoryAdmin):
    list_display = ["engagement", "gate", "version", "state", "requested_by", "requested_at"]
    list_filter = ["gate", "state"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyHistoryAdmin):
    list_display = ["engagement", "gate", "version", "verdict", "decided_by", "decided_at"]
    list_filter = ["gate", "verdict"]


@admin.register(UatItem)
class UatItemAdmin(ReadOnlyHistoryAdmin):
    list_display = ["engagement", "entity_name", "attribute_name", "classification", "state"]
    list_filter = ["state", "classification"]


@admin.register(CutoverItem)
class CutoverItemAdmin(ReadOnlyHistoryAdmin):
    list_display = ["engagement", "step", "ticked", "ticked_by", "ticked_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyHistoryAdmin):
    list_display = ["engagement", "kind", "gate", "actor", "created_at"]
    list_filter = ["kind", "gate"]
