"""A column's engagement is its table's: not checked again per column; the table's key is
indexed by the (table, name) unique index alone."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0005_index_catalogs_stored_before'),
        ('workbench', '0006_engagement_phase_overridden'),
    ]

    operations = [
        migrations.AlterField(
            model_name='catalogcolumn',
            name='engagement',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='workbench.engagement'),
        ),
        migrations.AlterField(
            model_name='catalogcolumn',
            name='table',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='columns', to='catalog.catalogtable'),
        ),
    ]
