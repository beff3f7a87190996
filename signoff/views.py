"""Pages of signoff."""
