"""Admin registrations of mappings. Read-only: rules change through the services, so validation,
history and permissions hold."""

from django.contrib import admin

from workbench.admin import ReadOnlyHistoryAdmin

from .models import AttributeMapping, EntityMapping, MappingComment


@admin.register(EntityMapping)
class EntityMappingAdmin(ReadOnlyHistoryAdmin):
    list_display = ["entity_name", "engagement", "driving_table", "status", "frequency"]
    search_fields = ["entity_name", "driving_table"]


@admin.register(AttributeMapping)
class AttributeMappingAdmin(ReadOnlyHistoryAdmin):
    list_display = ["attribute_name", "entity_mapping", "status", "feasibility", "sme_review"]
    list_filter = ["status", "feasibility", "sme_review"]
    search_fields = ["attribute_name"]
    list_select_related = ["entity_mapping"]


admin.site.register(MappingComment, ReadOnlyHistoryAdmin)
