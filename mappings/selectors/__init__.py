"""Reads of mappings that are more than a one-liner: the catalog side in `catalog`."""
