"""Forms of the engagement core pages. They only shape input; the services decide."""

from __future__ import annotations

from django import forms

from .choices import EngagementStatus, LinkKind, Phase, Role, SignoffGate, TokenLifetime
from .models import GlossaryTerm, ReferenceLink


class EngagementCreateForm(forms.Form):
    slug = forms.SlugField(max_length=60, help_text="Short name used in URLs, e.g. acme-360.")
    name = forms.CharField(max_length=200)
    client = forms.CharField(max_length=200, required=False)
    mart_name = forms.CharField(label="Mart name", max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class EngagementEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    client = forms.CharField(max_length=200, required=False)
    mart_name = forms.CharField(label="Mart name", max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    status = forms.ChoiceField(choices=EngagementStatus.choices)
    current_phase = forms.TypedChoiceField(
        choices=[("", "Follow the phase outputs"), *Phase.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Current phase",
        help_text="Set by hand, it overrides what the phase outputs say (the dashboard shows both).",
    )


class MembershipAddForm(forms.Form):
    # The picker: typing asks the server for matching users, offered through the datalist.
    username = forms.CharField(
        max_length=150,
        label="User",
        widget=forms.TextInput(
            attrs={
                "list": "member-candidates",
                "autocomplete": "off",
                "placeholder": "user name, name or e-mail",
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#member-candidates",
                "hx-swap": "innerHTML",  # the options go inside the datalist
                "hx-sync": "this:replace",
            }
        ),
    )
    # The least a new member can do; the Lead raises it deliberately.
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class MembershipInviteForm(forms.Form):
    """A person with no account yet: they get an e-mail with a link to set their password."""

    name = forms.CharField(max_length=150)
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)

    def __init__(self, *args, **kwargs):
        # Its own ids: the page's add form has a role field too.
        kwargs.setdefault("auto_id", "invite_%s")
        super().__init__(*args, **kwargs)


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class SignoffOwnerForm(forms.Form):
    gate = forms.ChoiceField(choices=SignoffGate.choices)
    username = forms.ChoiceField(label="Owner")

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        owner_field = self.fields["username"]
        assert isinstance(owner_field, forms.ChoiceField)
        owner_field.choices = [
            (
                m.user.username,
                f"{m.user.get_full_name() or m.user.username} ({m.get_role_display()})",
            )
            for m in members
        ]


class GlossaryTermForm(forms.ModelForm):
    class Meta:
        model = GlossaryTerm
        fields = ["term", "definition", "synonyms"]
        widgets = {"definition": forms.Textarea(attrs={"rows": 2})}

    def validate_unique(self):
        """Uniqueness is the service's business (it reports it on the right field)."""


class ReferenceLinkForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=LinkKind.choices)
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = ReferenceLink
        fields = ["kind", "title", "url", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class DemoJobForm(forms.Form):
    steps = forms.IntegerField(min_value=1, max_value=50, initial=10)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What will use it, e.g. “nightly export script”."
    )
    days = forms.TypedChoiceField(
        label="Expires after",
        choices=TokenLifetime.choices,
        coerce=int,
        initial=TokenLifetime.DAYS_90,
    )
