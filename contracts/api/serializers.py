"""API serializers of contracts."""
