"""Choices and allowed state moves of contracts."""
