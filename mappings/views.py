"""Pages of mappings."""
