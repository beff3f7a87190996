"""Index every source whose catalog was stored before the suggestion index existed (or whose
index counts other columns than its catalog holds), so a suggestion request only ever reads."""

from django.db import migrations
from django.db.models import Count, Sum


def index_stale_sources(apps, schema_editor):
    from catalog.services.suggestion_index import build_index

    CatalogColumn = apps.get_model("catalog", "CatalogColumn")
    SuggestionName = apps.get_model("catalog", "SuggestionName")
    stored = dict(
        CatalogColumn.objects.order_by().values_list("table__source_id").annotate(n=Count("pk"))
    )
    indexed = dict(
        SuggestionName.objects.order_by().values_list("source_id").annotate(n=Sum("column_count"))
    )
    for source_id in sorted(stored.keys() | indexed.keys()):
        if stored.get(source_id, 0) != indexed.get(source_id, 0):
            build_index(source_id, apps)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_suggestion_index")]

    operations = [migrations.RunPython(index_stale_sources, migrations.RunPython.noop)]
