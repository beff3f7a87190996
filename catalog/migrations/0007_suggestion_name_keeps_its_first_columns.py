"""The suggestion index keeps a name's first columns on the name (a row per name, not per
column), and every stored catalog is indexed afresh in that shape, so a suggestion request only
ever reads."""

from django.db import migrations, models


def index_every_catalog(apps, schema_editor):
    from catalog.services.suggestion_index import build_index

    CatalogColumn = apps.get_model("catalog", "CatalogColumn")
    sources = CatalogColumn.objects.order_by().values_list("table__source_id", flat=True)
    for source_id in sorted(set(sources.distinct())):
        build_index(source_id, apps)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_column_engagement_is_its_tables")]

    operations = [
        migrations.AddField(
            model_name="suggestionname",
            name="first_columns",
            field=models.JSONField(default=list),
        ),
        migrations.DeleteModel(name="SuggestionColumn"),
        migrations.RunPython(index_every_catalog, migrations.RunPython.noop),
    ]
