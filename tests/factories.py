"""Factories for tests (and handy in a shell). Rows are written as the services would write them."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from workbench.choices import LinkKind, Role
from workbench.models import Engagement, GlossaryTerm, Membership, ReferenceLink

PASSWORD = "test-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"engagement-{n}")
    name = factory.LazyAttribute(lambda e: e.slug.replace("-", " ").title())
    client = "Acme Retail"
    mart_name = "Acme Marketing Data Mart"
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def lead_membership(obj, create, extracted, **kwargs):  # noqa: N805
        if create and obj.created_by:
            Membership.objects.get_or_create(
                engagement=obj, user=obj.created_by, defaults={"role": Role.IMPLEMENTATION_LEAD}
            )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    engagement = factory.SubFactory(EngagementFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.TECH_BA


class GlossaryTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GlossaryTerm

    engagement = factory.SubFactory(EngagementFactory)
    term = factory.Sequence(lambda n: f"Term {n}")
    definition = "What the term means to everyone on the engagement."
    synonyms = "alias one, alias two"


class ReferenceLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferenceLink

    engagement = factory.SubFactory(EngagementFactory)
    kind = LinkKind.MART_DOCS
    title = factory.Sequence(lambda n: f"Document {n}")
    url = "https://docs.example.test/mart"


def member(engagement: Engagement, role: str, username: str | None = None):
    """A user holding `role` in `engagement`."""
    user = UserFactory(**({"username": username} if username else {}))
    MembershipFactory(engagement=engagement, user=user, role=role)
    return user


# --- mappings: the Mart catalog -------------------------------------------------------------


class SourceSystemFactory(factory.django.DjangoModelFactory):
    """A source system whose URL has no password (use the services to store one)."""

    class Meta:
        model = "catalog.SourceSystem"

    engagement = factory.SubFactory(EngagementFactory)
    name = factory.Sequence(lambda n: f"Mart {n}")
    url = "sqlite:///var/demo_mart.sqlite3"
    dialect = "sqlite"


class CatalogTableFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.CatalogTable"

    source = factory.SubFactory(SourceSystemFactory)
    engagement = factory.LazyAttribute(lambda t: t.source.engagement)
    name = factory.Sequence(lambda n: f"table_{n}")


class CatalogColumnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.CatalogColumn"

    table = factory.SubFactory(CatalogTableFactory)
    engagement = factory.LazyAttribute(lambda c: c.table.engagement)
    name = factory.Sequence(lambda n: f"column_{n}")
    position = factory.Sequence(lambda n: n + 1)
    data_type = "TEXT"
