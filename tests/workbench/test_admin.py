"""The admin shows every record and its history; records that change only through their
services are read-only there."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import UserFactory
from workbench.admin import ReadOnlyHistoryAdmin

MODELS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(("model", "model_admin"), MODELS, ids=[m._meta.label for m, _ in MODELS])
def test_every_changelist_opens(superuser_client, model, model_admin):
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert superuser_client.get(reverse(f"{name}_changelist")).status_code == 200
    if isinstance(model_admin, ReadOnlyHistoryAdmin):
        assert superuser_client.get(reverse(f"{name}_add")).status_code == 403


def test_the_admin_needs_staff(client, db):
    client.force_login(UserFactory(username="plain"))
    response = client.get(reverse("admin:workbench_engagement_changelist"))
    assert response.status_code == 302
