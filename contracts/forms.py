"""Forms of the contract pages. They shape input; the services validate and save."""

from __future__ import annotations

from django import forms

from workbench.uploads import UploadKind, size_validator


class ContractImportForm(forms.Form):
    file = forms.FileField(
        label="Contract file",
        help_text="ODCS v3 .yaml/.json, or an .xlsx/.csv attribute list.",
        validators=[size_validator(UploadKind.CONTRACT)],
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,.json,.xlsx,.csv"}),
    )
    version = forms.CharField(
        label="Version",
        max_length=50,
        required=False,
        help_text="Leave empty to use the file's own version (spreadsheets: the next N.0.0).",
    )


class NoteForm(forms.Form):
    entity_name = forms.CharField(widget=forms.HiddenInput)
    attribute_name = forms.CharField(required=False, label="About")
    text = forms.CharField(
        label="Note",
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "What you learned about this entity or attribute…"}
        ),
    )

    def __init__(self, *args, attribute_choices: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if attribute_choices is not None:
            self.fields["attribute_name"] = forms.ChoiceField(
                label="About",
                required=False,
                choices=[("", "the entity as a whole")] + [(n, n) for n in attribute_choices],
            )


class NoteEditForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    delete = forms.BooleanField(required=False)
