"""API serializers of mappings."""
