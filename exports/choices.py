"""Choices and allowed state moves of exports."""
