"""Admin registrations of signoff."""
