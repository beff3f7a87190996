"""Forms of the exports pages. They shape input; the services validate and save."""

from __future__ import annotations

from django import forms

from workbench.uploads import UploadKind, size_validator


class SpecImportForm(forms.Form):
    file = forms.FileField(
        label="Edited specification",
        help_text="The .xlsx exported from this engagement, edited in Excel or LibreOffice.",
        validators=[size_validator(UploadKind.WORKBOOK)],
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
