from pathlib import Path

from django.core.management.base import CommandError

from contracts import selectors
from contracts.exporters import layer_to_yaml
from contracts.models import InterfaceLayer
from workbench import policy
from workbench.management.base import WorkbenchCommand
from workbench.policy import Action


class Command(WorkbenchCommand):
    help = (
        "Write the engagement's contract back as ODCS v3.1 YAML (the published version by default). "
        "JSON keys: engagement, contract {name, version, status}, output, mapped_attributes (null "
        "without --with-mapping)."
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
            "transformDescription from the engagement's mapping",
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
        transforms = None
        if options["with_mapping"]:
            from exports.spec.kt import odcs_transforms

            transforms = odcs_transforms(engagement=engagement)
        path = Path(options["output"])
        try:
            path.write_text(layer_to_yaml(layer, transforms=transforms), encoding="utf-8")
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
            },
            f"exported {layer.name} {layer.version}{mapped} to {path}",
        )
