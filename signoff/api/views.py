"""API views of signoff."""
