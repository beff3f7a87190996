"""Saving and deleting historied models with the acting user recorded (simple-history)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


def save_with_history(instance: models.Model, *, acting_user, validate: bool = True) -> None:
    """Validate (fields, choices and named constraints), then save with `acting_user` in history."""
    if validate:
        instance.full_clean()
    instance._history_user = acting_user
    instance.save()


def delete_with_history(instance: models.Model, *, acting_user) -> None:
    instance._history_user = acting_user
    instance.delete()


def apply_changes(instance: models.Model, data: dict, *, allowed: set[str]) -> list[str]:
    """Copy the allowed fields from `data` onto `instance`; returns the names that changed."""
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    changed = []
    for name, value in data.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed
