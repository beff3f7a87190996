"""Per-row hashes of the spec snapshot: on each attribute mapping (left out of its history: the
fields it is computed from are in it) and, for each entity mapping, in a table of its own."""

from django.db import migrations, models

from mappings.snapshot import (
    ATTRIBUTE_SPEC_FIELDS,
    ENTITY_SPEC_FIELDS,
    attribute_hash,
    entity_hash,
)

BATCH = 2000


def fill_spec_hashes(apps, schema_editor):
    """Stamp every existing row with the hash of its part of the spec snapshot (the definition
    in mappings.snapshot). Historical models of a migration write no history rows, and the
    attribute's hash is not a field its history records."""
    EntityMapping = apps.get_model("mappings", "EntityMapping")
    EntitySpecHash = apps.get_model("mappings", "EntitySpecHash")
    AttributeMapping = apps.get_model("mappings", "AttributeMapping")
    for entity in list(EntityMapping.objects.order_by("pk")):
        attributes = list(
            AttributeMapping.objects.filter(entity_mapping_id=entity.pk).only(
                "id", "attribute_name", *ATTRIBUTE_SPEC_FIELDS
            )
        )
        for attribute in attributes:
            attribute.spec_hash = attribute_hash(
                {field: getattr(attribute, field) for field in ATTRIBUTE_SPEC_FIELDS}
            )
        AttributeMapping.objects.bulk_update(attributes, ["spec_hash"], batch_size=BATCH)
        EntitySpecHash.objects.update_or_create(
            entity_mapping_id=entity.pk,
            defaults={
                "spec_hash": entity_hash(
                    {field: getattr(entity, field) for field in ENTITY_SPEC_FIELDS},
                    {a.attribute_name: a.spec_hash for a in attributes},
                )
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("mappings", "0005_entity_status_follows_attributes"),
    ]

    operations = [
        migrations.AddField(
            model_name="attributemapping",
            name="spec_hash",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="SHA-256 of the attribute's part of the spec snapshot "
                "(mappings.snapshot), kept by the mapping services.",
                max_length=64,
            ),
        ),
        migrations.CreateModel(
            name="EntitySpecHash",
            fields=[
                (
                    "entity_mapping",
                    models.OneToOneField(
                        on_delete=models.deletion.CASCADE,
                        primary_key=True,
                        related_name="spec_state",
                        serialize=False,
                        to="mappings.entitymapping",
                    ),
                ),
                ("spec_hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.RunPython(fill_spec_hashes, migrations.RunPython.noop),
    ]
