"""Pages of contracts."""
