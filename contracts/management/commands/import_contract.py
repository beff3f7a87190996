from pathlib import Path

from django.core.management.base import CommandError

from contracts import selectors, services
from contracts.diff import layer_diff
from contracts.hooks import affected_mappings, has_affected_mappings_provider
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Import an Interface Layer contract as a new draft version: ODCS v3 .yaml/.yml/.json, or an "
        ".xlsx/.csv attribute list. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="the contract file to import")
        parser.add_argument(
            "--contract-version",
            dest="contract_version",
            default=None,
            help="version to record (default: the file's own; next N.0.0 for spreadsheets)",
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="publish the imported version at once (the published one is superseded)",
        )
        parser.add_argument(
            "--diff",
            action="store_true",
            help="print the differences from the published version and the mappings affected",
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        published = selectors.published_layer(engagement=engagement)
        layer = services.contract_import(
            engagement=engagement,
            file_name=path.name,
            content=content,
            acting_user=user,
            version=options["contract_version"],
        )
        counts = selectors.layer_counts(layer=layer)
        self.stdout.write(
            f"imported {layer.name} {layer.version}: {counts['entities']} entities, "
            f"{counts['attributes']} attributes, {counts['relationships']} relationships"
        )
        if options["diff"] and published is not None:
            diff = layer_diff(old=published, new=layer)
            self.stdout.write(
                f"changes from {published.name} {published.version}: {diff.summary()}"
            )
            for change in diff.attributes_changed:
                self.stdout.write(
                    f"  ~ {change.entity}.{change.attribute}: {', '.join(change.fields)}"
                )
            if not has_affected_mappings_provider():
                self.stdout.write("affected mappings: none (mappings do not exist yet)")
            else:
                items = affected_mappings(engagement, diff)
                self.stdout.write(f"affected mappings: {len(items)}")
                for item in items:
                    self.stdout.write(
                        f"  {item['entity']}.{item.get('attribute') or '*'}: {item['reason']}"
                    )
        if options["publish"]:
            services.contract_publish(layer=layer, acting_user=user)
            self.stdout.write(f"published {layer.name} {layer.version}")
