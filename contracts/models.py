"""Models of contracts: an Interface Layer version, its entities, attributes and relationships,
and the Tech BA's understanding notes.

A layer version is written once by an import and never edited afterwards: a changed contract is
a new import (a new version). Notes are keyed by entity/attribute *name*, so they carry over from
one version of the contract to the next.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from workbench.models import Engagement, EngagementScopedQuerySet

from .choices import LayerStatus, LogicalType, SourceFormat
from .importers.records import split_reference


class InterfaceLayer(models.Model):
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="interface_layers"
    )
    name = models.CharField(max_length=200)
    name_in_file = models.BooleanField(
        default=True,
        help_text="The file named the contract; when it did not, the id stands in for the name "
        "and the export writes none.",
    )
    version = models.CharField(max_length=50)
    contract_id = models.CharField("contract id", max_length=200, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=LayerStatus.choices, default=LayerStatus.DRAFT)
    source_file_name = models.CharField(max_length=255)
    source_format = models.CharField(max_length=20, choices=SourceFormat.choices)
    file_hash = models.CharField(max_length=64, help_text="SHA-256 of the imported file.")
    extra = models.JSONField(default=dict, blank=True, help_text="Unknown top-level keys, kept.")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    published_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-imported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "name", "version"],
                name="interface_layer_version_unique",
                violation_error_message="This version of the contract has already been imported.",
            ),
            models.UniqueConstraint(
                fields=["engagement"],
                condition=Q(status=LayerStatus.PUBLISHED),
                name="interface_layer_one_published",
                violation_error_message="The engagement already has a published contract version.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def is_published(self) -> bool:
        return self.status == LayerStatus.PUBLISHED


class InterfaceLayerFile(models.Model):
    """The contract file a layer version was imported from, kept as it was read (text, or base64
    for a workbook). A table of its own: megabytes for a large contract (28 MB for 1,000 x 100),
    never read back by the app, it would otherwise weigh on every read of its layer (SQLite walks
    a long value's pages to reach the columns after it). Written once with the layer, which
    history records; deleted with it."""

    layer = models.OneToOneField(
        InterfaceLayer, on_delete=models.CASCADE, primary_key=True, related_name="file"
    )
    content = models.TextField()

    def __str__(self) -> str:
        return f"File of layer {self.layer_id}"


class LayerChildQuerySet(models.QuerySet):
    def restrict(self, user):
        return self.filter(layer__engagement__in=Engagement.objects.restrict(user))


class AttributeQuerySet(LayerChildQuerySet):
    def of_entities(self, layer, names):
        """The attributes of the entities of `layer` named `names` (a name or an iterable).

        Filtered on the entity alone, so the planner reaches the attributes through the entity's
        (layer, name) key: with `layer=` on the attribute, SQLite scans every attribute of the
        layer instead (20 ms for one entity of a 100,000-attribute contract, not 1 ms)."""
        if isinstance(names, str):
            return self.filter(entity__layer=layer, entity__name=names)
        return self.filter(entity__layer=layer, entity__name__in=names)


class RelationshipQuerySet(LayerChildQuerySet):
    def internal(self):
        """The foreign keys whose both ends are in the contract (not the external ones)."""
        return self.filter(to_attribute__isnull=False)


class InterfaceEntity(models.Model):
    layer = models.ForeignKey(InterfaceLayer, on_delete=models.CASCADE, related_name="entities")
    name = models.CharField(max_length=200)
    physical_name = models.CharField(max_length=200, blank=True)
    business_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    grain = models.TextField(blank=True, help_text="What one row stands for.")
    position = models.PositiveIntegerField()
    extra = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()
    objects = LayerChildQuerySet.as_manager()

    class Meta:
        ordering = ["layer", "position"]
        verbose_name_plural = "interface entities"
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "name"],
                name="interface_entity_name_unique",
                violation_error_message="An entity with this name already exists in the contract.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InterfaceAttribute(models.Model):
    layer = models.ForeignKey(InterfaceLayer, on_delete=models.CASCADE, related_name="attributes")
    entity = models.ForeignKey(InterfaceEntity, on_delete=models.CASCADE, related_name="attributes")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField()
    physical_name = models.CharField(max_length=200, blank=True)
    business_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    logical_type = models.CharField(max_length=20, choices=LogicalType.choices, blank=True)
    physical_type = models.CharField(max_length=100, blank=True)
    length = models.PositiveIntegerField(null=True, blank=True)
    precision = models.PositiveIntegerField(null=True, blank=True)
    scale = models.PositiveIntegerField(null=True, blank=True)
    required = models.BooleanField(default=False)
    primary_key = models.BooleanField(default=False)
    primary_key_position = models.PositiveIntegerField(null=True, blank=True)
    unique = models.BooleanField(default=False)
    allowed_values = models.JSONField(default=list, blank=True)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    format = models.CharField(max_length=200, blank=True)
    pattern = models.CharField(max_length=500, blank=True)
    minimum = models.JSONField(null=True, blank=True)
    maximum = models.JSONField(null=True, blank=True)
    canonical_meaning = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True)
    classification = models.CharField(max_length=100, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    history = HistoricalRecords()
    objects = AttributeQuerySet.as_manager()

    class Meta:
        ordering = ["entity", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "name"],
                name="interface_attribute_name_unique",
                violation_error_message="An attribute with this name already exists in the entity.",
            ),
            models.UniqueConstraint(
                fields=["entity", "primary_key_position"],
                name="interface_attribute_pk_position_unique",
                violation_error_message="Another attribute already holds this primary key position.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity.name}.{self.name}" if self.entity_id else self.name

    @property
    def is_pii(self) -> bool:
        return self.classification.lower() in {"pii", "restricted", "sensitive", "confidential"}


class InterfaceRelationship(models.Model):
    """A foreign key: `from_attribute` references the key attribute `to_attribute`.

    A target outside the contract (legal in ODCS) has no `to_attribute`: `to_reference` keeps it
    as written and `is_external` is true; consumers that need both ends (load order, DDL) read
    `InterfaceRelationship.objects.internal()`. A key of several columns is one row per column
    pair sharing `group`, in `key_position` order.
    """

    layer = models.ForeignKey(
        InterfaceLayer, on_delete=models.CASCADE, related_name="relationships"
    )
    from_attribute = models.ForeignKey(
        InterfaceAttribute, on_delete=models.CASCADE, related_name="references"
    )
    to_attribute = models.ForeignKey(
        InterfaceAttribute,
        on_delete=models.CASCADE,
        related_name="referenced_by",
        null=True,
        blank=True,
        help_text="Empty when the target lies outside this contract.",
    )
    to_reference = models.CharField(
        max_length=500,
        blank=True,
        help_text="The target as written in the file, when external or not `entity.attribute`.",
    )
    from_reference = models.CharField(
        max_length=500, blank=True, help_text="The source as written, when not `entity.attribute`."
    )
    on_schema = models.BooleanField(
        default=False, help_text="Declared on the schema object (from/to) rather than the property."
    )
    also_on_property = models.BooleanField(
        default=False, help_text="Declared on the schema object and on the property as well."
    )
    group = models.PositiveIntegerField(
        null=True, blank=True, help_text="Shared by the column pairs of a key written as lists."
    )
    key_position = models.PositiveIntegerField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    property_extra = models.JSONField(
        default=dict, blank=True, help_text="The property-level declaration's other keys."
    )

    history = HistoricalRecords()
    objects = RelationshipQuerySet.as_manager()

    class Meta:
        ordering = ["layer", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_attribute", "to_attribute"],
                name="interface_relationship_unique",
                violation_error_message="This relationship is already declared.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_attribute} → {self.target}"

    @property
    def is_external(self) -> bool:
        return self.to_attribute_id is None

    @property
    def is_unresolved(self) -> bool:
        """External, yet naming an object of this contract: an attribute it does not have."""
        found = split_reference(self.to_reference) if self.is_external else None
        return found is not None and self.layer.entities.filter(name=found[0]).exists()

    @property
    def target(self) -> str:
        """The target as `entity.attribute`, or as written when external."""
        if self.to_reference or self.to_attribute is None:
            return self.to_reference
        return f"{self.to_attribute.entity.name}.{self.to_attribute.name}"


class InterfaceNote(models.Model):
    """An Interface Understanding Note on an entity (attribute_name blank) or one attribute."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="interface_notes"
    )
    entity_name = models.CharField(max_length=200)
    attribute_name = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "entity_name", "attribute_name", "created_at", "pk"]
        indexes = [models.Index(fields=["engagement", "entity_name"], name="interface_note_entity")]

    def __str__(self) -> str:
        target = (
            f"{self.entity_name}.{self.attribute_name}" if self.attribute_name else self.entity_name
        )
        return f"Note on {target}"
