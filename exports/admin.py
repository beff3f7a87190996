"""Admin registrations of exports."""
