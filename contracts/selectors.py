"""Reads of contracts that are more than a one-liner."""
