"""Reads of the Mart catalog: search with filters (one FilterSet for UI and API), a table with its
keys and profiles, the ERD graph and the Source Understanding Notes. Each is a bounded number of
queries whatever the size of the catalog."""

from __future__ import annotations

import django_filters
from django.db.models import Count, Prefetch, Q

from workbench.models import Engagement

from .choices import DEFAULT_SUBJECT_AREAS, TableKind
from .models import CatalogColumn, CatalogForeignKey, CatalogTable, ImpactedEntity, SourceSystem

SEARCH_LIMIT = 500  # the server-rendered table
GRID_LIMIT = 5000  # the grid: virtual rows, filtered and sorted in the browser


class CatalogColumnFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    source = django_filters.NumberFilter(field_name="table__source")
    subject_area = django_filters.CharFilter(field_name="table__subject_area", lookup_expr="iexact")
    table = django_filters.CharFilter(method="filter_table", label="Table")
    column = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    data_type = django_filters.CharFilter(field_name="data_type", lookup_expr="icontains")

    class Meta:
        model = CatalogColumn
        fields = ["q", "source", "subject_area", "table", "column", "data_type"]

    def filter_table(self, queryset, _name, value):
        """Part of a table name, or `schema.table` where the Mart has several schemas."""
        value = value.strip()
        schema, dot, name = value.rpartition(".")
        if dot and schema:
            return queryset.filter(table__schema__iexact=schema, table__name__icontains=name)
        return queryset.filter(table__name__icontains=value) if value else queryset

    def filter_q(self, queryset, _name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(table__name__icontains=value)
            | Q(comment__icontains=value)
            | Q(notes__icontains=value)
            | Q(table__comment__icontains=value)
        )


class CatalogTableFilter(django_filters.FilterSet):
    source = django_filters.NumberFilter(field_name="source")
    subject_area = django_filters.CharFilter(field_name="subject_area", lookup_expr="iexact")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    kind = django_filters.ChoiceFilter(choices=TableKind.choices)

    class Meta:
        model = CatalogTable
        fields = ["source", "subject_area", "name", "kind"]


def source_list(*, engagement: Engagement):
    return (
        SourceSystem.objects.filter(engagement=engagement)
        .annotate(table_count=Count("tables", distinct=True))
        .order_by("name")
    )


def subject_areas(*, engagement: Engagement) -> list[str]:
    used = (
        CatalogTable.objects.filter(engagement=engagement)
        .exclude(subject_area="")
        .values_list("subject_area", flat=True)
        .distinct()
    )
    return sorted(set(DEFAULT_SUBJECT_AREAS) | set(used))


def catalog_search(
    *, engagement: Engagement, params, limit: int = SEARCH_LIMIT
) -> tuple[CatalogColumnFilter, list, bool]:
    """Columns matching the filters (at most `limit`), their filter, and whether cut off."""
    queryset = (
        CatalogColumn.objects.filter(engagement=engagement)
        .select_related("table", "table__source", "profile")
        .order_by("table__schema", "table__name", "position")
    )
    filterset = CatalogColumnFilter(params, queryset=queryset)
    rows = list(filterset.qs[: limit + 1])
    return filterset, rows[:limit], len(rows) > limit


def catalog_tables(*, engagement: Engagement):
    return (
        CatalogTable.objects.filter(engagement=engagement)
        .select_related("source")
        .annotate(column_count=Count("columns", distinct=True))
        .order_by("source__name", "schema", "name")
    )


def table_detail(*, table: CatalogTable) -> dict:
    columns = list(table.columns.select_related("profile").order_by("position"))
    outgoing = list(table.foreign_keys.select_related("referred_table"))
    incoming = list(CatalogForeignKey.objects.filter(referred_table=table).select_related("table"))
    fk_columns = {name for fk in outgoing for name in fk.columns}
    for column in columns:
        column.is_foreign_key = column.name in fk_columns
        profile = getattr(column, "profile", None)
        column.top_max = max((v["count"] for v in profile.top_values), default=0) if profile else 0
    return {
        "columns": columns,
        "outgoing": outgoing,
        "incoming": incoming,
        "impacted": list(table.impacted_entities.all()),
    }


def erd_graph(*, engagement: Engagement, source: SourceSystem | None = None) -> dict:
    """Cytoscape elements: a node per table (with its key columns), an edge per foreign key."""
    tables = CatalogTable.objects.filter(engagement=engagement)
    fks = CatalogForeignKey.objects.filter(engagement=engagement, referred_table__isnull=False)
    if source is not None:
        tables = tables.filter(source=source)
        fks = fks.filter(table__source=source)
    nodes = [
        {
            "data": {
                "id": f"t{t.pk}",
                "label": t.qualified_name,
                "area": t.subject_area or "unassigned",
                "kind": t.kind,
                "columns": t.column_count,
                "url": "",
            }
        }
        for t in tables.annotate(column_count=Count("columns"))
    ]
    edges = [
        {
            "data": {
                "id": f"fk{fk.pk}",
                "source": f"t{fk.table_id}",
                "target": f"t{fk.referred_table_id}",
                "label": ", ".join(fk.columns),
            }
        }
        for fk in fks
    ]
    return {"nodes": nodes, "edges": edges}


def source_notes(*, engagement: Engagement) -> list[dict]:
    """Tables grouped by subject area, with their noted columns and impacted entities."""
    tables = (
        CatalogTable.objects.filter(engagement=engagement)
        .select_related("source")
        .prefetch_related(
            Prefetch(
                "columns",
                queryset=CatalogColumn.objects.exclude(notes="").order_by("position"),
                to_attr="noted_columns",
            )
        )
        .prefetch_related(
            Prefetch("impacted_entities", queryset=ImpactedEntity.objects.order_by("entity_name"))
        )
        .order_by("subject_area", "schema", "name")
    )
    groups: dict[str, list] = {}
    for table in tables:
        groups.setdefault(table.subject_area or "", []).append(table)
    ordered = sorted(groups.items(), key=lambda item: (item[0] == "", item[0]))
    return [{"subject_area": area, "tables": items} for area, items in ordered]


def impacted_entity_summary(*, engagement: Engagement) -> list[dict]:
    """Interface entity name → the tables that feed it (the draft list)."""
    summary: dict[str, list[str]] = {}
    for link in ImpactedEntity.objects.filter(engagement=engagement).select_related("table"):
        summary.setdefault(link.entity_name, []).append(link.table.qualified_name)
    return [{"entity": name, "tables": sorted(tables)} for name, tables in sorted(summary.items())]
