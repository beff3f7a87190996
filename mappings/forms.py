"""Forms of the mapping pages. They shape input; the services validate the SQL and decide."""

from __future__ import annotations

from django import forms

from .choices import (
    CommentKind,
    EntityStatus,
    Feasibility,
    LoadStrategy,
    MappingStatus,
    SmeReview,
)
from .selectors.mapping import PROBLEM_FILTERS

SQL = {"class": "sql", "spellcheck": "false", "autocomplete": "off", "autocapitalize": "off"}


class EntityMappingForm(forms.Form):
    row_version = forms.IntegerField(widget=forms.HiddenInput)
    driving_table = forms.CharField(
        max_length=400,
        required=False,
        widget=forms.TextInput(attrs={**SQL, "list": "catalog-tables"}),
    )
    driving_alias = forms.CharField(
        label="Alias", max_length=60, required=False, widget=forms.TextInput(attrs=SQL)
    )
    joins = forms.CharField(
        required=False,
        help_text="SQL JOIN clauses, one per line.",
        widget=forms.Textarea(attrs={**SQL, "rows": 3}),
    )
    filter = forms.CharField(
        required=False,
        help_text="A SQL condition over the aliases.",
        widget=forms.Textarea(attrs={**SQL, "rows": 1}),
    )
    frequency = forms.CharField(max_length=100, help_text="daily, hourly, weekly or cron.")
    load_strategy = forms.ChoiceField(
        choices=[("", "Automatic"), *LoadStrategy.choices],
        required=False,
        help_text="How each run writes the table (automatic: merge on the key).",
    )
    watermark = forms.CharField(
        max_length=200, required=False, help_text="Append: the attribute new rows grow."
    )
    delete_condition = forms.CharField(
        required=False,
        help_text="Source rows that count as deleted (a merge removes them).",
        widget=forms.Textarea(attrs={**SQL, "rows": 1}),
    )
    status = forms.ChoiceField(
        choices=EntityStatus.choices,
        help_text="Follows the attributes (all done: Mapped); only Blocked is set by hand.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AttributeMappingForm(forms.Form):
    row_version = forms.IntegerField(widget=forms.HiddenInput)
    source_columns = forms.CharField(
        label="Source column",
        max_length=1000,
        required=False,
        widget=forms.TextInput(attrs={**SQL, "placeholder": "c.column", "autofocus": True}),
    )
    transformation = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={**SQL, "rows": 2, "placeholder": "SQL expression"}),
    )
    default_value = forms.CharField(label="Default", max_length=500, required=False)
    edge_cases = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 1}))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 1}))
    status = forms.ChoiceField(
        choices=[("", "(set from the rule)"), *MappingStatus.choices], required=False
    )


class GridFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *MappingStatus.choices],
        required=False,
        widget=forms.Select(attrs={"aria-label": "Show rows of status"}),
    )
    problem = forms.ChoiceField(
        choices=[("", "Any problem"), *PROBLEM_FILTERS.items()],
        required=False,
        widget=forms.Select(attrs={"aria-label": "Show rows with problem"}),
    )


class FeasibilityForm(forms.Form):
    verdict = forms.ChoiceField(choices=Feasibility.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewForm(forms.Form):
    state = forms.ChoiceField(choices=SmeReview.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    kind = forms.ChoiceField(choices=CommentKind.choices)
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "@name to mention a member"})
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)
