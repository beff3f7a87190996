"""Choices and allowed state moves of signoff."""
