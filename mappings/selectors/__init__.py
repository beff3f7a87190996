"""Reads of mappings that are more than a one-liner: the grid and coverage, the GAP, suggestions."""
