"""Reads of signoff that are more than a one-liner."""
