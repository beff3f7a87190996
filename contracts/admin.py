"""Admin registrations of contracts."""
