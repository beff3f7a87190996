"""Reads of exports that are more than a one-liner."""
