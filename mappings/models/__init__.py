"""Models of mappings. The catalog (source side) lives in `catalog`; the mapping rules beside it."""

from .catalog import (
    CatalogColumn,
    CatalogForeignKey,
    CatalogTable,
    ColumnProfile,
    ImpactedEntity,
    SourceSystem,
)

__all__ = [
    "CatalogColumn",
    "CatalogForeignKey",
    "CatalogTable",
    "ColumnProfile",
    "ImpactedEntity",
    "SourceSystem",
]
