"""Forms of mappings: the catalog side in `catalog`."""
