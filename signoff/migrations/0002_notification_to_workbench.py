# The inbox's Notification now belongs to the core (workbench.0003_notification took it over);
# the table and its rows are kept, only Django's state forgets the model here.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('signoff', '0001_initial'),
        ('workbench', '0003_notification'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='Notification')],
            database_operations=[],
        ),
    ]
