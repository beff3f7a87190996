"""API views of mappings."""
