"""Admin registrations of contracts: read-only, like the contract itself (a changed contract is a
new import, through the services)."""

from django.contrib import admin

from workbench.admin import ReadOnlyHistoryAdmin

from .models import (
    InterfaceAttribute,
    InterfaceEntity,
    InterfaceLayer,
    InterfaceNote,
    InterfaceRelationship,
)


@admin.register(InterfaceLayer)
class InterfaceLayerAdmin(ReadOnlyHistoryAdmin):
    list_display = ["engagement", "name", "version", "status", "imported_by", "imported_at"]
    list_filter = ["status"]
    search_fields = ["engagement__slug", "name", "version"]


@admin.register(InterfaceEntity)
class InterfaceEntityAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "layer", "position"]
    search_fields = ["name"]
    list_select_related = ["layer"]


@admin.register(InterfaceAttribute)
class InterfaceAttributeAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "entity", "logical_type", "required", "primary_key"]
    search_fields = ["name", "entity__name"]
    list_select_related = ["entity"]


@admin.register(InterfaceRelationship)
class InterfaceRelationshipAdmin(ReadOnlyHistoryAdmin):
    list_select_related = ["from_attribute__entity", "to_attribute__entity"]


@admin.register(InterfaceNote)
class InterfaceNoteAdmin(ReadOnlyHistoryAdmin):
    list_display = ["engagement", "entity_name", "attribute_name", "author", "updated_at"]
    search_fields = ["entity_name", "attribute_name", "text"]
