"""Reads of mappings that are more than a one-liner."""
