"""Admin registrations of mappings."""
