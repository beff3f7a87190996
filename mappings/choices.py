"""Choices and allowed state moves of mappings."""
