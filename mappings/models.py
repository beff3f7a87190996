"""Models of mappings."""
