"""API serializers of exports."""
