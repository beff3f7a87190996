"""Admin registrations of the catalog. The catalog is read-only here: it changes through the services
(introspection, imports, notes) so history and permissions hold; the password never shows."""

from django.contrib import admin

from workbench.admin import ReadOnlyHistoryAdmin

from .models import (
    CatalogColumn,
    CatalogForeignKey,
    CatalogTable,
    ColumnProfile,
    ImpactedEntity,
    SourceSystem,
)


@admin.register(SourceSystem)
class SourceSystemAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "engagement", "dialect", "origin", "introspected_at", "profiled_at"]
    list_filter = ["dialect", "origin"]
    exclude = ["password_encrypted"]


@admin.register(CatalogTable)
class CatalogTableAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "schema", "source", "kind", "subject_area", "row_count"]
    list_filter = ["kind", "subject_area"]
    search_fields = ["name", "grain", "notes"]


@admin.register(CatalogColumn)
class CatalogColumnAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "table", "data_type", "nullable", "is_primary_key"]
    search_fields = ["name", "table__name"]
    list_select_related = ["table"]


admin.site.register(CatalogForeignKey, ReadOnlyHistoryAdmin)
admin.site.register(ColumnProfile, ReadOnlyHistoryAdmin)
admin.site.register(ImpactedEntity, ReadOnlyHistoryAdmin)
