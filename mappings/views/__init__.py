"""Pages of mappings: the catalog side in `catalog`."""
