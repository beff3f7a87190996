"""Models of mappings. The catalog (source side) lives in `catalog`; the mapping rules beside it."""

from .catalog import (
    CatalogColumn,
    CatalogForeignKey,
    CatalogTable,
    ColumnProfile,
    ImpactedEntity,
    SourceSystem,
)
from .mapping import AttributeMapping, EntityMapping, MappingComment

__all__ = [
    "AttributeMapping",
    "EntityMapping",
    "MappingComment",
    "CatalogColumn",
    "CatalogForeignKey",
    "CatalogTable",
    "ColumnProfile",
    "ImpactedEntity",
    "SourceSystem",
]
