"""The Mart catalog moves here from `mappings` without touching the database.

Its tables keep their names (`mappings_*`, pinned by `db_table`), so this migration only tells
Django's model state that the models now belong to `catalog` (the `mappings` side forgets them in
`mappings.0003`), and renames their content types so permissions and admin log entries follow.
Reversible: migrating `catalog` to zero gives the models back to `mappings`, still without a
single row moved.
"""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


MODELS = [
    "sourcesystem",
    "catalogtable",
    "catalogcolumn",
    "catalogforeignkey",
    "columnprofile",
    "impactedentity",
]
HISTORICAL = [f"historical{name}" for name in MODELS]


def _move_content_types(apps, from_label: str, to_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for name in MODELS + HISTORICAL:
        if not ContentType.objects.filter(app_label=to_label, model=name).exists():
            ContentType.objects.filter(app_label=from_label, model=name).update(app_label=to_label)


def content_types_to_catalog(apps, schema_editor) -> None:
    _move_content_types(apps, "mappings", "catalog")


def content_types_to_mappings(apps, schema_editor) -> None:
    _move_content_types(apps, "catalog", "mappings")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('workbench', '0002_role_order'),
        ('mappings', '0002_mapping_rules'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='CatalogTable',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('schema', models.CharField(blank=True, max_length=200)),
                        ('name', models.CharField(max_length=200)),
                        ('kind', models.CharField(choices=[('table', 'Table'), ('view', 'View')], default='table', max_length=10)),
                        ('comment', models.TextField(blank=True)),
                        ('primary_key', models.JSONField(blank=True, default=list)),
                        ('unique_constraints', models.JSONField(blank=True, default=list)),
                        ('indexes', models.JSONField(blank=True, default=list)),
                        ('row_count', models.BigIntegerField(blank=True, null=True)),
                        ('profiled_at', models.DateTimeField(blank=True, null=True)),
                        ('subject_area', models.CharField(blank=True, max_length=100)),
                        ('grain', models.CharField(blank=True, help_text='One row per … (e.g. one row per customer).', max_length=300)),
                        ('derivation_notes', models.TextField(blank=True, help_text='Derivations the Mart already does.', verbose_name='existing derivations')),
                        ('gap_notes', models.TextField(blank=True, help_text='Where the Mart falls short.', verbose_name='gaps against canonical meaning')),
                        ('notes', models.TextField(blank=True)),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='workbench.engagement')),
                    ],
                    options={
                        'db_table': 'mappings_catalogtable',
                        'ordering': ['source', 'schema', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='CatalogForeignKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(blank=True, max_length=200)),
                        ('columns', models.JSONField(default=list)),
                        ('referred_schema', models.CharField(blank=True, max_length=200)),
                        ('referred_table_name', models.CharField(max_length=200)),
                        ('referred_columns', models.JSONField(default=list)),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='workbench.engagement')),
                        ('referred_table', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='referenced_by', to='catalog.catalogtable')),
                        ('table', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='foreign_keys', to='catalog.catalogtable')),
                    ],
                    options={
                        'db_table': 'mappings_catalogforeignkey',
                        'ordering': ['table', 'name', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='CatalogColumn',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200)),
                        ('position', models.PositiveIntegerField(default=0)),
                        ('data_type', models.CharField(blank=True, max_length=200)),
                        ('length', models.PositiveIntegerField(blank=True, null=True)),
                        ('precision', models.PositiveIntegerField(blank=True, null=True)),
                        ('scale', models.IntegerField(blank=True, null=True)),
                        ('nullable', models.BooleanField(default=True)),
                        ('default', models.TextField(blank=True)),
                        ('comment', models.TextField(blank=True)),
                        ('is_primary_key', models.BooleanField(default=False)),
                        ('notes', models.TextField(blank=True)),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='workbench.engagement')),
                        ('table', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='columns', to='catalog.catalogtable')),
                    ],
                    options={
                        'db_table': 'mappings_catalogcolumn',
                        'ordering': ['table', 'position', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='ColumnProfile',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('taken_at', models.DateTimeField()),
                        ('sample_rows', models.BigIntegerField(default=0)),
                        ('null_count', models.BigIntegerField(default=0)),
                        ('null_percent', models.FloatField(default=0)),
                        ('distinct_count', models.BigIntegerField(blank=True, null=True)),
                        ('min_value', models.TextField(blank=True)),
                        ('max_value', models.TextField(blank=True)),
                        ('avg_length', models.FloatField(blank=True, null=True)),
                        ('max_length', models.IntegerField(blank=True, null=True)),
                        ('top_values', models.JSONField(blank=True, default=list)),
                        ('patterns', models.JSONField(blank=True, default=list)),
                        ('column', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='profile', to='catalog.catalogcolumn')),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='workbench.engagement')),
                    ],
                    options={
                        'db_table': 'mappings_columnprofile',
                        'ordering': ['column'],
                    },
                ),
                migrations.CreateModel(
                    name='HistoricalCatalogColumn',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('name', models.CharField(max_length=200)),
                        ('position', models.PositiveIntegerField(default=0)),
                        ('data_type', models.CharField(blank=True, max_length=200)),
                        ('length', models.PositiveIntegerField(blank=True, null=True)),
                        ('precision', models.PositiveIntegerField(blank=True, null=True)),
                        ('scale', models.IntegerField(blank=True, null=True)),
                        ('nullable', models.BooleanField(default=True)),
                        ('default', models.TextField(blank=True)),
                        ('comment', models.TextField(blank=True)),
                        ('is_primary_key', models.BooleanField(default=False)),
                        ('notes', models.TextField(blank=True)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('engagement', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='workbench.engagement')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('table', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.catalogtable')),
                    ],
                    options={
                        'verbose_name': 'historical catalog column',
                        'verbose_name_plural': 'historical catalog columns',
                        'db_table': 'mappings_historicalcatalogcolumn',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalCatalogForeignKey',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('name', models.CharField(blank=True, max_length=200)),
                        ('columns', models.JSONField(default=list)),
                        ('referred_schema', models.CharField(blank=True, max_length=200)),
                        ('referred_table_name', models.CharField(max_length=200)),
                        ('referred_columns', models.JSONField(default=list)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('engagement', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='workbench.engagement')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('referred_table', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.catalogtable')),
                        ('table', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.catalogtable')),
                    ],
                    options={
                        'verbose_name': 'historical catalog foreign key',
                        'verbose_name_plural': 'historical catalog foreign keys',
                        'db_table': 'mappings_historicalcatalogforeignkey',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalColumnProfile',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('taken_at', models.DateTimeField()),
                        ('sample_rows', models.BigIntegerField(default=0)),
                        ('null_count', models.BigIntegerField(default=0)),
                        ('null_percent', models.FloatField(default=0)),
                        ('distinct_count', models.BigIntegerField(blank=True, null=True)),
                        ('min_value', models.TextField(blank=True)),
                        ('max_value', models.TextField(blank=True)),
                        ('avg_length', models.FloatField(blank=True, null=True)),
                        ('max_length', models.IntegerField(blank=True, null=True)),
                        ('top_values', models.JSONField(blank=True, default=list)),
                        ('patterns', models.JSONField(blank=True, default=list)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('column', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.catalogcolumn')),
                        ('engagement', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='workbench.engagement')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical column profile',
                        'verbose_name_plural': 'historical column profiles',
                        'db_table': 'mappings_historicalcolumnprofile',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalImpactedEntity',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('entity_name', models.CharField(max_length=200)),
                        ('note', models.CharField(blank=True, max_length=500)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('engagement', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='workbench.engagement')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('table', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.catalogtable')),
                    ],
                    options={
                        'verbose_name': 'historical impacted entity',
                        'verbose_name_plural': 'historical impacted entitys',
                        'db_table': 'mappings_historicalimpactedentity',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalSourceSystem',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('name', models.CharField(max_length=200)),
                        ('url', models.CharField(blank=True, max_length=1000, verbose_name='URL without password')),
                        ('dialect', models.CharField(blank=True, max_length=60)),
                        ('password_env', models.CharField(blank=True, help_text='Name of an environment variable holding the password, instead of storing it.', max_length=200, verbose_name='password environment variable')),
                        ('default_schema', models.CharField(blank=True, max_length=200)),
                        ('origin', models.CharField(choices=[('introspection', 'Introspection'), ('ddl', 'DDL import'), ('csv', 'CSV column list')], default='introspection', max_length=20)),
                        ('introspected_at', models.DateTimeField(blank=True, null=True)),
                        ('profiled_at', models.DateTimeField(blank=True, null=True)),
                        ('last_diff', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(blank=True, editable=False)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('created_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('engagement', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='workbench.engagement')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical source system',
                        'verbose_name_plural': 'historical source systems',
                        'db_table': 'mappings_historicalsourcesystem',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='ImpactedEntity',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('entity_name', models.CharField(max_length=200)),
                        ('note', models.CharField(blank=True, max_length=500)),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='workbench.engagement')),
                        ('table', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='impacted_entities', to='catalog.catalogtable')),
                    ],
                    options={
                        'db_table': 'mappings_impactedentity',
                        'ordering': ['table', 'entity_name'],
                    },
                ),
                migrations.CreateModel(
                    name='SourceSystem',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200)),
                        ('url', models.CharField(blank=True, max_length=1000, verbose_name='URL without password')),
                        ('dialect', models.CharField(blank=True, max_length=60)),
                        ('password_encrypted', models.TextField(blank=True)),
                        ('password_env', models.CharField(blank=True, help_text='Name of an environment variable holding the password, instead of storing it.', max_length=200, verbose_name='password environment variable')),
                        ('default_schema', models.CharField(blank=True, max_length=200)),
                        ('origin', models.CharField(choices=[('introspection', 'Introspection'), ('ddl', 'DDL import'), ('csv', 'CSV column list')], default='introspection', max_length=20)),
                        ('introspected_at', models.DateTimeField(blank=True, null=True)),
                        ('profiled_at', models.DateTimeField(blank=True, null=True)),
                        ('last_diff', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sources', to='workbench.engagement')),
                    ],
                    options={
                        'db_table': 'mappings_sourcesystem',
                        'ordering': ['engagement', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='HistoricalCatalogTable',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('schema', models.CharField(blank=True, max_length=200)),
                        ('name', models.CharField(max_length=200)),
                        ('kind', models.CharField(choices=[('table', 'Table'), ('view', 'View')], default='table', max_length=10)),
                        ('comment', models.TextField(blank=True)),
                        ('primary_key', models.JSONField(blank=True, default=list)),
                        ('unique_constraints', models.JSONField(blank=True, default=list)),
                        ('indexes', models.JSONField(blank=True, default=list)),
                        ('row_count', models.BigIntegerField(blank=True, null=True)),
                        ('profiled_at', models.DateTimeField(blank=True, null=True)),
                        ('subject_area', models.CharField(blank=True, max_length=100)),
                        ('grain', models.CharField(blank=True, help_text='One row per … (e.g. one row per customer).', max_length=300)),
                        ('derivation_notes', models.TextField(blank=True, help_text='Derivations the Mart already does.', verbose_name='existing derivations')),
                        ('gap_notes', models.TextField(blank=True, help_text='Where the Mart falls short.', verbose_name='gaps against canonical meaning')),
                        ('notes', models.TextField(blank=True)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('engagement', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='workbench.engagement')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('source', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.sourcesystem')),
                    ],
                    options={
                        'verbose_name': 'historical catalog table',
                        'verbose_name_plural': 'historical catalog tables',
                        'db_table': 'mappings_historicalcatalogtable',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.AddField(
                    model_name='catalogtable',
                    name='source',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tables', to='catalog.sourcesystem'),
                ),
                migrations.AddConstraint(
                    model_name='catalogcolumn',
                    constraint=models.UniqueConstraint(fields=('table', 'name'), name='catalog_column_unique', violation_error_message='This column is already in the table.'),
                ),
                migrations.AddConstraint(
                    model_name='impactedentity',
                    constraint=models.UniqueConstraint(fields=('table', 'entity_name'), name='impacted_entity_unique', violation_error_message='This table is already linked to that interface entity.'),
                ),
                migrations.AddConstraint(
                    model_name='sourcesystem',
                    constraint=models.UniqueConstraint(fields=('engagement', 'name'), name='source_system_unique_name', violation_error_message='This engagement already has a source system of that name.'),
                ),
                migrations.AddConstraint(
                    model_name='catalogtable',
                    constraint=models.UniqueConstraint(fields=('source', 'schema', 'name'), name='catalog_table_unique', violation_error_message='This table is already in the catalog.'),
                ),
            ],
        ),
        migrations.RunPython(content_types_to_catalog, content_types_to_mappings),
    ]
