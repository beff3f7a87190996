"""API views of contracts."""
