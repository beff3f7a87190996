"""The demo engagement `make run` shows: a user for every role and a phase-1 set-up.

Idempotent: running it again changes nothing. Later apps add their part of the story (the Mart,
the contract, the mapping, a review, ETL, a test run) as further steps in DEMO_STEPS.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.db import transaction

from . import services
from .choices import LinkKind, Phase, Role, SignoffGate
from .models import Engagement

DEMO_SLUG = "acme-marketing-360"
DEMO_PASSWORD = "workbench-demo"

# username, full name, role in the demo engagement (None: not a member)
DEMO_USERS: list[tuple[str, str, str | None]] = [
    ("lead", "Lena Lead", Role.IMPLEMENTATION_LEAD),
    ("ba", "Bao Analyst", Role.TECH_BA),
    ("etl", "Eitan Developer", Role.ETL_DEVELOPER),
    ("sme", "Sofia Expert", Role.CLIENT_SME),
    ("ops", "Omar Operations", Role.CLIENT_OPS),
    ("viewer", "Vera Viewer", Role.VIEWER),
    ("outsider", "Otto Outsider", None),
]

GLOSSARY = [
    (
        "Customer",
        "A person who has bought, subscribed or opted in at least once; the 360's central entity.",
        "client, contact, party, cust",
    ),
    ("Household", "Customers sharing a postal address, used for mail deduplication.", "hh, family"),
    (
        "Campaign",
        "A planned marketing initiative with a code, budget and channel mix.",
        "cmp, initiative, promo",
    ),
    (
        "Touchpoint",
        "One interaction of a customer with the brand: an email sent, opened or "
        "clicked, a visit, a purchase.",
        "event, interaction, activity",
    ),
    (
        "Opt-in",
        "The customer's recorded consent to be contacted on a channel.",
        "consent, permission, subscribed",
    ),
    (
        "Channel",
        "The medium of a touchpoint: email, SMS, web, store, paid social.",
        "medium, channel_group",
    ),
]

LINKS = [
    (
        LinkKind.MART_DOCS,
        "Acme Mart data dictionary",
        "https://wiki.acme.example/mart/dictionary",
        "Maintained by the client's BI team; last reviewed in September.",
    ),
    (
        LinkKind.SAMPLE_DATA,
        "Sample extract (anonymised)",
        "https://files.acme.example/mart-sample",
        "Read-only access requested for the ETL Developer.",
    ),
    (
        LinkKind.INTERFACE_ERD,
        "Marketing 360 interface ERD",
        "https://docs.acme.example/360-erd",
        "Canonical model v1; the contract itself is imported into the workbench.",
    ),
]

DemoStep = Callable[[Engagement, dict], None]
DEMO_STEPS: list[DemoStep] = []


def demo_step(fn: DemoStep) -> DemoStep:
    """Register a later app's part of the demo; steps run in registration order, idempotently."""
    DEMO_STEPS.append(fn)
    return fn


@transaction.atomic
def load_demo() -> Engagement:
    users = _ensure_users()
    lead = users["lead"]
    engagement = Engagement.objects.filter(slug=DEMO_SLUG).first()
    if engagement is None:
        engagement = services.engagement_create(
            slug=DEMO_SLUG,
            name="Acme Retail — Marketing 360",
            client="Acme Retail",
            mart_name="Acme Marketing Data Mart",
            description="Populate the Marketing 360 interface layer from Acme's Marketing Data "
            "Mart: customers, addresses, subscriptions, campaigns and email events.",
            acting_user=lead,
        )
    _ensure_members(engagement, users)
    _ensure_owners(engagement, users)
    _ensure_glossary(engagement, lead)
    _ensure_links(engagement, lead)
    for step in DEMO_STEPS:
        step(engagement, users)
    if engagement.current_phase == Phase.ORIENTATION and DEMO_STEPS:
        # The story is mid-way: the mapping is being reviewed with the client.
        services.engagement_set_phase(
            engagement=engagement, phase=Phase.INTERFACE_AND_MAPPING, acting_user=lead
        )
    return engagement


def _ensure_users() -> dict:
    User = get_user_model()
    add_engagement = Permission.objects.get(
        codename="add_engagement", content_type__app_label="workbench"
    )
    users = {}
    for username, full_name, _role in DEMO_USERS:
        first, last = full_name.split(" ", 1)
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.example"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        users[username] = user
    users["lead"].user_permissions.add(add_engagement)
    return users


def _ensure_members(engagement: Engagement, users: dict) -> None:
    existing = set(engagement.memberships.values_list("user__username", flat=True))
    for username, _full_name, role in DEMO_USERS:
        if role and username not in existing:
            services.membership_add(
                engagement=engagement, username=username, role=role, acting_user=users["lead"]
            )


def _ensure_owners(engagement: Engagement, users: dict) -> None:
    named = set(engagement.signoff_owners.values_list("gate", flat=True))
    for gate, username in ((SignoffGate.MAPPING, "sme"), (SignoffGate.ETL, "ops")):
        if gate not in named:
            services.signoff_owner_set(
                engagement=engagement, gate=gate, username=username, acting_user=users["lead"]
            )


def _ensure_glossary(engagement: Engagement, acting_user: User) -> None:
    existing = set(engagement.glossary.values_list("term", flat=True))
    for term, definition, synonyms in GLOSSARY:
        if term not in existing:
            services.glossary_term_create(
                engagement=engagement,
                data={"term": term, "definition": definition, "synonyms": synonyms},
                acting_user=acting_user,
            )


def _ensure_links(engagement: Engagement, acting_user: User) -> None:
    existing = set(engagement.links.values_list("title", flat=True))
    for kind, title, url, notes in LINKS:
        if title not in existing:
            services.link_create(
                engagement=engagement,
                data={"kind": kind, "title": title, "url": url, "notes": notes},
                acting_user=acting_user,
            )
