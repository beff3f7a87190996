"""API views of exports."""
