"""The one FilterSet of the audit trail, used by the audit page and the API list alike."""

from __future__ import annotations

import django_filters
from django import forms

from .choices import AuditKind, Gate
from .models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    gate = django_filters.ChoiceFilter(choices=Gate.choices, empty_label="All gates")
    kind = django_filters.ChoiceFilter(choices=AuditKind.choices, empty_label="All events")
    actor = django_filters.CharFilter(field_name="actor__username", label="Actor (user name)")
    date_from = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["gate", "kind", "actor", "date_from", "date_to"]
