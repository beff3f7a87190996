# The inbox's Notification moves from signoff to the core. Its table (signoff_notification) and
# rows stay where they are: this only tells Django's state that workbench owns the model now.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workbench', '0002_role_order'),
        ('signoff', '0001_initial'),  # created the table
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('review_requested', 'Review requested'), ('review_decided', 'Review decided'), ('review_invalidated', 'Sign-off invalidated'), ('mentioned', 'Mentioned')], max_length=30)),
                        ('subject', models.CharField(max_length=300)),
                        ('body', models.TextField(blank=True)),
                        ('url', models.CharField(blank=True, max_length=500)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('read_at', models.DateTimeField(blank=True, null=True)),
                        ('emailed_at', models.DateTimeField(blank=True, null=True)),
                        ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='workbench.engagement')),
                        ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='signoff_notifications', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'signoff_notification',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['recipient', 'read_at'], name='notification_unread')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
