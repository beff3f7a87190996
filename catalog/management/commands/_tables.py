"""Finding a cataloged table as typed on the command line: `[schema.]table`, case-insensitive."""

from __future__ import annotations

from django.core.management.base import CommandError

from catalog.models import CatalogTable
from workbench import policy
from workbench.models import Engagement
from workbench.policy import Action


def add_table_arguments(parser) -> None:
    parser.add_argument(
        "table", metavar="TABLE", help="the cataloged table, as [schema.]table (e.g. crm.customer)"
    )
    parser.add_argument(
        "--source",
        default="",
        help="name of the source system, when several hold a table of that name",
    )


def find_table(*, engagement: Engagement, user, typed: str, source: str = "") -> CatalogTable:
    """The one table of the engagement's catalog named `typed`; refused with the candidates when
    none or several match. Members only: the names are the engagement's data."""
    policy.check(user, engagement, Action.VIEW)
    schema, _, name = typed.strip().rpartition(".")
    tables = CatalogTable.objects.filter(engagement=engagement, name__iexact=name).select_related(
        "source"
    )
    if schema:
        tables = tables.filter(schema__iexact=schema)
    if source:
        tables = tables.filter(source__name__iexact=source.strip())
    found = list(tables[:10])
    if len(found) == 1:
        return found[0]
    if not found:
        raise CommandError(
            f"{engagement.slug} has no cataloged table '{typed}'"
            f"{f' in {source}' if source else ''}; introspect_mart catalogs the Mart."
        )
    # Several: the same name in two schemas or two sources. Prefer the exact spelling if unique.
    exact = [t for t in found if t.name == name and (not schema or t.schema == schema)]
    if len(exact) == 1:
        return exact[0]
    names = ", ".join(f"{t.qualified_name} ({t.source.name})" for t in found)
    raise CommandError(
        f"'{typed}' names several tables: {names}; qualify it as schema.table or add --source."
    )
