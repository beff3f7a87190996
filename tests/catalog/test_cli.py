"""manage.py introspect_mart: catalogs (and profiles) a Mart from the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from catalog.models import CatalogTable, SourceSystem

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("introspect_mart", *args, stdout=out)
    return out.getvalue()


def test_introspect_mart_prints_what_it_cataloged_and_profiled(engagement, ba, demo_mart_file):
    output = run(
        "--engagement",
        engagement.slug,
        "--as",
        "ba",
        "--url",
        f"sqlite:///{demo_mart_file}",
        "--profile",
    )

    assert output == "cataloged 7 tables, 55 columns, 6 foreign keys\nprofiled 7 tables\n"
    source = SourceSystem.objects.get()
    assert source.name == engagement.mart_name
    assert CatalogTable.objects.filter(profiled_at__isnull=False).count() == 7
    again = run(
        "--engagement", engagement.slug, "--as", "ba", "--url", f"sqlite:///{demo_mart_file}"
    )
    assert again == "cataloged 7 tables, 55 columns, 6 foreign keys\n"
    assert SourceSystem.objects.count() == 1


def test_introspect_mart_fails_with_a_one_line_reason(engagement, ba):
    with pytest.raises(CommandError) as failed:
        run(
            "--engagement",
            engagement.slug,
            "--as",
            "ba",
            "--url",
            "postgresql+psycopg://u:pw-123@127.0.0.1:9/x",
        )
    assert str(failed.value).startswith("Could not connect to the Mart:")
    assert "pw-123" not in str(failed.value)


def test_introspect_mart_refuses_an_unknown_dialect_and_a_missing_right(engagement, ba, viewer):
    with pytest.raises(CommandError) as unknown:
        run("--engagement", engagement.slug, "--as", "ba", "--url", "nodb://x/y")
    assert str(unknown.value) == (
        "url: Unknown database dialect 'nodb': SQLAlchemy has no dialect or driver installed for it."
    )
    with pytest.raises(CommandError, match="does not allow this"):
        run("--engagement", engagement.slug, "--as", "viewer", "--url", "sqlite:///x.db")


def test_introspect_mart_reports_the_catalog_as_json(engagement, ba, demo_mart_file):
    import json

    report = json.loads(
        run("--engagement", engagement.slug, "--as", "ba", "--url", f"sqlite:///{demo_mart_file}",
            "--profile", "--format", "json")
    )  # fmt: skip

    source = SourceSystem.objects.get()
    assert report == {
        "engagement": engagement.slug,
        "source": {"id": source.pk, "name": source.name, "url": f"sqlite:///{demo_mart_file}"},
        "tables": 7,
        "columns": 55,
        "foreign_keys": 6,
        "changed": report["changed"],
        "changes": report["changes"],
        "profiled_tables": 7,
    }
    assert isinstance(report["changes"], dict)
