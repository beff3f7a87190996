"""Entity status follows the attributes (mappings.status): store the derived status on existing
entities, Blocked ones aside, each change recorded in history like any other save."""

from django.db import migrations
from django.db.models import Count, Q
from django.utils import timezone

# The derivation as it stood when this migration was written (a migration must not change when
# the app's code does later).
DONE = ["mapped", "default_only", "not_applicable"]


def _derived(total: int, done: int, has_from: bool) -> str:
    if total and done == total:
        return "mapped"
    if done or has_from:
        return "draft"
    return "unmapped"


def derive_entity_status(apps, schema_editor):
    EntityMapping = apps.get_model("mappings", "EntityMapping")
    Historical = apps.get_model("mappings", "HistoricalEntityMapping")
    fields = [f.attname for f in EntityMapping._meta.concrete_fields]
    entities = EntityMapping.objects.exclude(status="blocked").annotate(
        total=Count("attributes"), done=Count("attributes", filter=Q(attributes__status__in=DONE))
    )
    now = timezone.now()
    for entity in entities.iterator():
        status = _derived(entity.total, entity.done, bool(entity.driving_table))
        if status == entity.status:
            continue
        entity.status = status
        entity.row_version += 1
        entity.save(update_fields=["status", "row_version"])
        Historical.objects.create(
            **{name: getattr(entity, name) for name in fields},
            history_date=now,
            history_type="~",
            history_change_reason="Status derived from its attributes",
            history_user=None,
        )


class Migration(migrations.Migration):
    dependencies = [("mappings", "0004_load_strategies")]

    operations = [migrations.RunPython(derive_entity_status, migrations.RunPython.noop)]
