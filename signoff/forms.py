"""Forms of the sign-off pages (input shapes only; the rules live in signoff.services)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django import forms

from .choices import CutoverStep, Gate, UatClassification, Verdict

if TYPE_CHECKING:
    from workbench.models import Membership


class SubmitForm(forms.Form):
    gate = forms.ChoiceField(choices=Gate.choices, initial=Gate.MAPPING)
    entities = forms.MultipleChoiceField(
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="Leave empty to submit the whole specification.",
    )
    message = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Message to the approver"
    )

    def __init__(self, *args, entity_names: Sequence[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        entities = self.fields["entities"]
        assert isinstance(entities, forms.MultipleChoiceField)
        entities.choices = [(n, n) for n in entity_names]


class DecideForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.HiddenInput)
    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when you request changes.",
    )


class UatItemForm(forms.Form):
    entity_name = forms.ChoiceField(label="Entity")
    attribute_name = forms.CharField(required=False, label="Attribute", max_length=200)
    classification = forms.ChoiceField(choices=UatClassification.choices)
    owner = forms.ChoiceField(required=False)
    test_result_ref = forms.CharField(required=False, label="Test-run result id", max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args,
        entity_names: Sequence[str] = (),
        members: Iterable[Membership] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        entity_name = self.fields["entity_name"]
        owner = self.fields["owner"]
        assert isinstance(entity_name, forms.ChoiceField)
        assert isinstance(owner, forms.ChoiceField)
        entity_name.choices = [(n, n) for n in entity_names]
        owner.choices = [("", "—")] + [
            (
                m.user.username,
                f"{m.user.get_full_name() or m.user.username} ({m.get_role_display()})",
            )
            for m in members
        ]


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        widget=forms.TextInput(attrs={"placeholder": "How it was resolved"})
    )


class TickForm(forms.Form):
    step = forms.ChoiceField(choices=CutoverStep.choices, widget=forms.HiddenInput)
    link = forms.URLField(required=False, assume_scheme="https")
    note = forms.CharField(required=False)
