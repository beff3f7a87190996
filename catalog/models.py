"""The Mart catalog: source systems, their tables, columns, keys, profiles and the BA's notes.

A source system is one Mart connection of an engagement. Its catalog is filled by introspection
(or a DDL / CSV import) and refreshed by re-introspection, which keeps the notes of everything that
still exists. Structural fields come from the Mart; `subject_area`, `grain`, `*_notes` are the BA's.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from workbench.history import BulkHistoricalRecords
from workbench.models import Engagement, EngagementScopedQuerySet

from .choices import CatalogOrigin, TableKind


class SourceSystem(models.Model):
    """A Mart reachable by a SQLAlchemy URL. The password is never stored in `url`: it is either
    encrypted in `password_encrypted` (Fernet) or read from the environment variable
    `password_env` when a connection is opened."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="sources")
    name = models.CharField(max_length=200)
    url = models.CharField("URL without password", max_length=1000, blank=True)
    dialect = models.CharField(
        "rules' SQL dialect",
        max_length=60,
        blank=True,
        help_text="The sqlglot dialect mapping rules are written in (empty: generic SQL).",
    )
    password_encrypted = models.TextField(blank=True)
    password_env = models.CharField(
        "password environment variable",
        max_length=200,
        blank=True,
        help_text="Name of an environment variable holding the password, instead of storing it.",
    )
    default_schema = models.CharField(max_length=200, blank=True)  # the first of `schemas`
    # The schemas this source covers, in the order the BA gave them; empty: the database's default
    # schema. Re-introspecting some of them never touches the tables of the others.
    schemas = models.JSONField(default=list, blank=True)
    origin = models.CharField(
        max_length=20, choices=CatalogOrigin.choices, default=CatalogOrigin.INTROSPECTION
    )
    introspected_at = models.DateTimeField(null=True, blank=True)
    profiled_at = models.DateTimeField(null=True, blank=True)
    last_diff = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(
        excluded_fields=["password_encrypted"], table_name="mappings_historicalsourcesystem"
    )
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        db_table = "mappings_sourcesystem"  # kept from when the catalog lived in `mappings`
        ordering = ["engagement", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "name"],
                name="source_system_unique_name",
                violation_error_message="This engagement already has a source system of that name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_secret(self) -> bool:
        return bool(self.password_encrypted or self.password_env)

    @property
    def covered_schemas(self) -> list[str]:
        """The schemas introspection reads; [""] is the database's default schema."""
        return list(self.schemas) or [self.default_schema]


# The catalog's references its history records keep without an index (see BulkHistoricalRecords).
HISTORY_UNINDEXED = ("engagement", "source", "table", "referred_table")


class CatalogTable(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(SourceSystem, on_delete=models.CASCADE, related_name="tables")
    schema = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=TableKind.choices, default=TableKind.TABLE)
    comment = models.TextField(blank=True)
    primary_key = models.JSONField(default=list, blank=True)  # column names, in key order
    unique_constraints = models.JSONField(default=list, blank=True)  # [{"name", "columns"}]
    indexes = models.JSONField(default=list, blank=True)  # [{"name", "columns", "unique"}]
    row_count = models.BigIntegerField(null=True, blank=True)
    profiled_at = models.DateTimeField(null=True, blank=True)
    # The BA's understanding
    subject_area = models.CharField(max_length=100, blank=True)
    grain = models.CharField(
        max_length=300, blank=True, help_text="One row per … (e.g. one row per customer)."
    )
    derivation_notes = models.TextField(
        "existing derivations", blank=True, help_text="Derivations the Mart already does."
    )
    gap_notes = models.TextField(
        "gaps against canonical meaning", blank=True, help_text="Where the Mart falls short."
    )
    notes = models.TextField(blank=True)

    history = BulkHistoricalRecords(
        table_name="mappings_historicalcatalogtable", unindexed=HISTORY_UNINDEXED
    )
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        db_table = "mappings_catalogtable"  # kept from when the catalog lived in `mappings`
        ordering = ["source", "schema", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "schema", "name"],
                name="catalog_table_unique",
                violation_error_message="This table is already in the catalog.",
            ),
        ]

    def __str__(self) -> str:
        return self.qualified_name

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


class CatalogColumn(models.Model):
    # Columns are written in bulk (30,000 in a Mart's first store) and the database checks no
    # reference of theirs: each check is a lookup per column at commit (~0.14 s per reference
    # for 30,000 columns on PostgreSQL, as long as the rest of the commit). The engagement is
    # the table's, copied for scoped queries. A column is only ever written by `catalog_apply`
    # with a table it has just stored or read, and deleted with its table by Django's collector
    # (CASCADE), which the story `test_every_column_belongs_to_a_stored_table_of_its_engagement`
    # walks through. The (table, name) unique index serves lookups by table, so the table's key
    # has no index of its own.
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    table = models.ForeignKey(
        CatalogTable,
        on_delete=models.CASCADE,
        related_name="columns",
        db_index=False,
        db_constraint=False,
    )
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    data_type = models.CharField(max_length=200, blank=True)
    length = models.PositiveIntegerField(null=True, blank=True)
    precision = models.PositiveIntegerField(null=True, blank=True)
    scale = models.IntegerField(null=True, blank=True)
    nullable = models.BooleanField(default=True)
    default = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    is_primary_key = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    # Display facts set by `selectors.table_detail` for the table page; never stored.
    is_foreign_key: bool = False
    top_max: int = 0

    history = BulkHistoricalRecords(
        table_name="mappings_historicalcatalogcolumn", unindexed=HISTORY_UNINDEXED
    )
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        db_table = "mappings_catalogcolumn"  # kept from when the catalog lived in `mappings`
        ordering = ["table", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["table", "name"],
                name="catalog_column_unique",
                violation_error_message="This column is already in the table.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.table.name}.{self.name}"


class CatalogForeignKey(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    table = models.ForeignKey(CatalogTable, on_delete=models.CASCADE, related_name="foreign_keys")
    name = models.CharField(max_length=200, blank=True)
    columns = models.JSONField(default=list)
    referred_schema = models.CharField(max_length=200, blank=True)
    referred_table_name = models.CharField(max_length=200)
    referred_table = models.ForeignKey(
        CatalogTable, on_delete=models.SET_NULL, null=True, blank=True, related_name="referenced_by"
    )
    referred_columns = models.JSONField(default=list)

    history = BulkHistoricalRecords(
        table_name="mappings_historicalcatalogforeignkey", unindexed=HISTORY_UNINDEXED
    )
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        db_table = "mappings_catalogforeignkey"  # kept from when the catalog lived in `mappings`
        ordering = ["table", "name", "pk"]

    def __str__(self) -> str:
        return (
            f"{self.table.name}({', '.join(self.columns)}) → "
            f"{self.referred_table_name}({', '.join(self.referred_columns)})"
        )


class ColumnProfile(models.Model):
    """The latest profile of one column, with the time it was taken and the sample it used."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    column = models.OneToOneField(CatalogColumn, on_delete=models.CASCADE, related_name="profile")
    taken_at = models.DateTimeField()
    sample_rows = models.BigIntegerField(default=0)
    null_count = models.BigIntegerField(default=0)
    null_percent = models.FloatField(default=0)
    distinct_count = models.BigIntegerField(null=True, blank=True)
    min_value = models.TextField(blank=True)
    max_value = models.TextField(blank=True)
    avg_length = models.FloatField(null=True, blank=True)
    max_length = models.IntegerField(null=True, blank=True)
    top_values = models.JSONField(default=list, blank=True)  # [{"value", "count"}]
    patterns = models.JSONField(default=list, blank=True)  # ["email", "phone", ...]

    history = HistoricalRecords(table_name="mappings_historicalcolumnprofile")
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        db_table = "mappings_columnprofile"  # kept from when the catalog lived in `mappings`
        ordering = ["column"]

    def __str__(self) -> str:
        return f"profile of {self.column_id} at {self.taken_at:%Y-%m-%d %H:%M}"


class ImpactedEntity(models.Model):
    """A draft link: this Mart table will feed that interface entity (by the entity's name)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    table = models.ForeignKey(
        CatalogTable, on_delete=models.CASCADE, related_name="impacted_entities"
    )
    entity_name = models.CharField(max_length=200)
    note = models.CharField(max_length=500, blank=True)

    history = HistoricalRecords(table_name="mappings_historicalimpactedentity")
    objects = EngagementScopedQuerySet.as_manager()

    class Meta:
        db_table = "mappings_impactedentity"  # kept from when the catalog lived in `mappings`
        ordering = ["table", "entity_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["table", "entity_name"],
                name="impacted_entity_unique",
                violation_error_message="This table is already linked to that interface entity.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.table} → {self.entity_name}"


# --- the suggestion index ---------------------------------------------------------------------
# Derived from the catalog by `catalog.services.suggestion_index` each time a source's catalog is
# stored, so suggesting columns reads the few candidate names, never the whole catalog. Not
# historied: it is a cache of the catalog's own (historied) rows, rebuilt whole per source.


class SuggestionName(models.Model):
    """One normalised column name of a source (its words, abbreviations expanded, sorted and
    joined by spaces: `cust_id` and `customer_id` are both "customer id"), how many of the
    source's columns carry it, and the first of them in catalog order (schema, table, position,
    name) as `[ordinal, column id]` pairs: as many as a suggestion ever reads of one name
    (`mappings.suggestions.COMMON`), so the index is a row per name, not a row per column."""

    source = models.ForeignKey(SourceSystem, on_delete=models.CASCADE, related_name="+")
    words = models.TextField(blank=True)
    column_count = models.PositiveIntegerField()
    first_columns = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["source", "words"], name="suggestion_name_words")]

    def __str__(self) -> str:
        return self.words


class SuggestionWord(models.Model):
    """A word of a normalised name: the inverted index from word to names."""

    source = models.ForeignKey(SourceSystem, on_delete=models.CASCADE, related_name="+")
    word = models.CharField(max_length=200)
    # the rows are written and deleted with their name, by the rebuild: no per-row FK check
    name = models.ForeignKey(
        SuggestionName, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["source", "word"], name="suggestion_word_lookup")]

    def __str__(self) -> str:
        return self.word
