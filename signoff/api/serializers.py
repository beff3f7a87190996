"""API serializers of signoff."""
