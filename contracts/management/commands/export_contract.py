from pathlib import Path

from django.core.management.base import CommandError

from contracts import selectors
from contracts.exporters import ServerUrlError, layer_to_yaml, server_from_url
from contracts.models import InterfaceLayer
from workbench import policy
from workbench.management.base import WorkbenchCommand
from workbench.policy import Action


class Command(WorkbenchCommand):
    help = (
        "Write the engagement's contract back as ODCS v3.1 YAML (the published version by default). "
        "JSON keys: engagement, contract {name, version, status}, output, mapped_attributes (null "
        "without --with-mapping), server (null without --server)."
    )

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
        parser.add_argument(
            "--contract-version",
            dest="contract_version",
            default=None,
            help="export this version instead of the published one",
        )
        parser.add_argument(
            "--with-mapping",
            action="store_true",
            help="fill each property's transformSourceObjects, transformLogic and "
            "transformDescription from the engagement's mapping, and each object's "
            "transformSource custom property (driving table, joins, filter, sourceQuery) that "
            "every transformLogic reads",
        )
        parser.add_argument(
            "--server",
            metavar="URL",
            default=None,
            help="add a server 'interface' for the database the interface tables are loaded in "
            "(a DuckDB or PostgreSQL SQLAlchemy URL; credentials are not written), so that "
            "`datacontract test --server interface` runs on the export as it is",
        )
        parser.add_argument(
            "--server-schema",
            dest="server_schema",
            metavar="SCHEMA",
            default=None,
            help="the schema of the interface tables on that server (default: main for DuckDB, "
            "public for PostgreSQL)",
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        policy.check(user, engagement, Action.EXPORT)
        if options["contract_version"]:
            layer = InterfaceLayer.objects.filter(
                engagement=engagement, version=options["contract_version"]
            ).first()
            if layer is None:
                raise CommandError(
                    f"No contract version {options['contract_version']} in {engagement.slug}."
                )
        else:
            layer = selectors.current_layer(engagement=engagement)
            if layer is None:
                raise CommandError(f"No contract has been imported into {engagement.slug}.")
        server = None
        if options["server"]:
            try:
                server = server_from_url(options["server"], schema=options["server_schema"])
            except ServerUrlError as exc:
                raise CommandError(f"--server: {exc}") from None
        transforms = sources = None
        if options["with_mapping"]:
            from exports.spec.kt import odcs_lineage

            sources, transforms = odcs_lineage(engagement=engagement)
        path = Path(options["output"])
        text = layer_to_yaml(layer, transforms=transforms, sources=sources, server=server)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}.") from None
        mapped = f" with the lineage of {len(transforms)} mapped attributes" if transforms else ""
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "contract": {"name": layer.name, "version": layer.version, "status": layer.status},
                "output": str(path),
                "mapped_attributes": len(transforms) if transforms is not None else None,
                "server": server,
            },
            f"exported {layer.name} {layer.version}{mapped} to {path}",
        )
