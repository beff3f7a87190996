"""Models of signoff."""
