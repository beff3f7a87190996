"""Move SpecVersion.snapshot to the end of its table.

SQLite stores a row's columns in order and a large value's tail in overflow pages: every column
after a 20 MB snapshot (the hash, the contract, the engagement) was read by walking that chain,
so each look at a version cost as much as reading its whole snapshot. Copied to a new last
column, the old one dropped; PostgreSQL keeps large values out of line either way.
"""

from django.db import migrations, models


def copy_snapshot(apps, schema_editor):
    SpecVersion = apps.get_model("signoff", "SpecVersion")
    table = schema_editor.quote_name(SpecVersion._meta.db_table)
    schema_editor.execute(f"UPDATE {table} SET frozen_snapshot = snapshot")


class Migration(migrations.Migration):

    dependencies = [
        ('signoff', '0003_spec_version_entity_hashes'),
    ]

    operations = [
        migrations.AddField(
            model_name='specversion',
            name='frozen_snapshot',
            field=models.JSONField(null=True),
        ),
        migrations.RunPython(copy_snapshot, migrations.RunPython.noop),
        migrations.RemoveField(model_name='specversion', name='snapshot'),
        migrations.RenameField(
            model_name='specversion', old_name='frozen_snapshot', new_name='snapshot'
        ),
        migrations.AlterField(
            model_name='specversion',
            name='snapshot',
            field=models.JSONField(),
        ),
    ]
