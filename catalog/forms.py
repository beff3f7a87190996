"""Forms of the catalog pages. They only shape input; the services decide."""

from __future__ import annotations

from django import forms

from workbench.uploads import UploadKind, size_validator

from .choices import CatalogOrigin
from .dialects import known_dialects
from .services.ddl_import import sqlglot_dialects


class SourceSystemForm(forms.Form):
    name = forms.CharField(max_length=200, initial="Marketing Data Mart")
    url = forms.CharField(
        label="SQLAlchemy URL",
        max_length=1000,
        widget=forms.TextInput(
            attrs={
                "placeholder": "postgresql+psycopg://user:password@host/db",
                "autocomplete": "off",
            }
        ),
        help_text="The password is encrypted and never shown again.",
    )
    password_env = forms.CharField(
        label="Password variable",
        max_length=200,
        required=False,
        help_text="Or name an environment variable holding the password.",
    )
    schemas = forms.CharField(
        label="Schemas",
        max_length=2000,
        required=False,
        help_text="Separate several with commas (crm, mkt). Empty: the database's default schema.",
    )
    dialect = forms.ChoiceField(
        label="Rules' SQL dialect",
        required=False,
        choices=[("", "the URL's database")] + [(d, d) for d in known_dialects()],
        help_text="Mapping rules are written in this dialect; by default the database's own.",
    )


class SourceSystemEditForm(SourceSystemForm):
    url = forms.CharField(
        label="SQLAlchemy URL",
        max_length=1000,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Leave empty to keep the current URL and password.",
    )


class CatalogImportForm(forms.Form):
    source_name = forms.CharField(
        label="Source system", max_length=200, initial="Marketing Data Mart"
    )
    format = forms.ChoiceField(
        choices=[(CatalogOrigin.DDL, "DDL script"), (CatalogOrigin.CSV, "CSV column list")]
    )
    dialect = forms.ChoiceField(
        label="DDL dialect",
        required=False,
        choices=[("", "generic SQL")] + [(d, d) for d in sqlglot_dialects()],
    )
    file = forms.FileField(validators=[size_validator(UploadKind.DDL)])

    def __init__(self, *args, **kwargs):
        # Its own ids: the sources page also shows the source form, which has a dialect too.
        kwargs.setdefault("auto_id", "import_%s")
        super().__init__(*args, **kwargs)


class ProfileForm(forms.Form):
    sample_rows = forms.IntegerField(
        label="Sample rows", min_value=100, max_value=10_000_000, initial=100_000
    )


class TableUnderstandingForm(forms.Form):
    subject_area = forms.CharField(
        label="Subject area",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "subject-areas"}),
    )
    grain = forms.CharField(
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "One row per …"}),
    )
    derivation_notes = forms.CharField(
        label="Existing derivations", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    gap_notes = forms.CharField(
        label="Gaps against canonical meaning",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ColumnNoteForm(forms.Form):
    notes = forms.CharField(required=False, max_length=5000, widget=forms.TextInput())


class ImpactedEntityForm(forms.Form):
    entity_name = forms.CharField(
        label="Interface entity",
        max_length=200,
        widget=forms.TextInput(attrs={"list": "interface-entities"}),
    )
    note = forms.CharField(max_length=500, required=False)
