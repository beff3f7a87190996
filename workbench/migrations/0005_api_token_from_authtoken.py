"""Move rest_framework.authtoken's tokens into ApiToken, then drop their table.

The old keys keep working (same header) for 90 days from this migration; the database keeps only
their SHA-256 from now on, and the table that held them in clear text is dropped. There is no way
back: the reverse does nothing (the clear keys are gone on purpose).
"""

import datetime as dt
import hashlib

from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

OLD_TABLE = "authtoken_token"
OLD_TOKEN_DAYS = 90


def move_old_tokens(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if OLD_TABLE not in connection.introspection.table_names(cursor):
            return  # a new installation: authtoken never ran here
        quote = connection.ops.quote_name
        cursor.execute(
            f"SELECT {quote('key')}, {quote('user_id')}, {quote('created')} FROM {quote(OLD_TABLE)}"
        )
        rows = cursor.fetchall()
    ApiToken = apps.get_model("workbench", "ApiToken")
    now = timezone.now()
    for key, user_id, created in rows:
        ApiToken.objects.create(
            user_id=user_id,
            name="Token from before expiring tokens",
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            prefix=key[:12],
            created_at=min(_aware(created) or now, now),
            expires_at=now + dt.timedelta(days=OLD_TOKEN_DAYS),
        )
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(OLD_TABLE)}")
    # Django forgets authtoken's migrations, so adding the app back would create its table anew.
    schema_editor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])


def _aware(value):
    """The old row's creation time: SQLite hands raw rows back as text, without a zone (UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


class Migration(migrations.Migration):
    dependencies = [("workbench", "0004_api_token")]

    operations = [migrations.RunPython(move_old_tokens, migrations.RunPython.noop)]
