from pathlib import Path

from contracts import selectors, services
from contracts.diff import Direction, layer_diff
from contracts.hooks import affected_mappings, has_affected_mappings_provider
from workbench.management.base import WorkbenchCommand
from workbench.uploads import UploadKind


class Command(WorkbenchCommand):
    help = (
        "Import an Interface Layer contract as a new draft version: ODCS v3 .yaml/.yml/.json, or an "
        ".xlsx/.csv attribute list. All or nothing. --publish publishes it at once (the workbook "
        "and the mapping follow the published version). JSON keys: engagement, contract {name, "
        "version}, counts {entities, attributes, relationships}, diff (null, or {from, summary, "
        "breaking {consumers, load}, changes [{kind, action, subject, fields, consumer, producer, "
        "breaking, verdict, affected_mappings}], attributes_changed, affected_mappings}), published."
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
        content = self.read_input(options["file"], UploadKind.CONTRACT)
        published = selectors.published_layer(engagement=engagement)
        layer = services.contract_import(
            engagement=engagement,
            file_name=path.name,
            content=content,
            acting_user=user,
            version=options["contract_version"],
        )
        counts = selectors.layer_counts(layer=layer)
        lines = [
            f"imported {layer.name} {layer.version}: {counts['entities']} entities, "
            f"{counts['attributes']} attributes, {counts['relationships']} relationships"
        ]
        data: dict = {
            "engagement": engagement.slug,
            "contract": {"name": layer.name, "version": layer.version},
            "counts": counts,
            "diff": None,
            "published": False,
        }
        if options["diff"] and published is not None:
            data["diff"] = self._diff(engagement, published, layer, lines)
        if options["publish"]:
            services.contract_publish(layer=layer, acting_user=user)
            lines.append(f"published {layer.name} {layer.version}")
            data["published"] = True
        self.report(options, data, "\n".join(lines))

    def _diff(self, engagement, published, layer, lines: list[str]) -> dict:
        """Append every change from the published version to `lines`, graded, with the mappings
        it affects; return them as data."""
        diff = layer_diff(old=published, new=layer)
        lines.append(f"changes from {published.name} {published.version}: {diff.summary()}")
        lines.append(diff.verdict_summary())
        items: list[dict] = []
        if has_affected_mappings_provider():
            items = affected_mappings(engagement, diff)
            diff.attach_affected(items)
        for change in diff.changes:
            lines.append(f"  {_SIGN[change.action]} {_named(change)}: {change.verdict}")
            lines.extend(
                f"      affected mapping {item['entity']}.{item.get('attribute') or '*'}: "
                f"{item['reason']}"
                for item in change.affected
            )
        if not has_affected_mappings_provider():
            lines.append("affected mappings: none (mappings do not exist yet)")
        else:
            lines.append(f"affected mappings: {len(items)}")
        return {
            "from": {"name": published.name, "version": published.version},
            "summary": diff.summary(),
            "breaking": {"consumers": diff.breaks_consumers, "load": diff.breaks_producer},
            "changes": [change.as_dict() for change in diff.changes],
            "attributes_changed": [
                {
                    "entity": c.entity,
                    "attribute": c.attribute,
                    "fields": list(c.fields),
                    "changes": [{"field": f.field, "old": f.old, "new": f.new} for f in c.changes],
                }
                for c in diff.attributes_changed
            ],
            "affected_mappings": [
                {
                    "entity": item["entity"],
                    "attribute": item.get("attribute") or None,
                    "reason": item["reason"],
                }
                for item in items
            ],
        }


_SIGN = {"added": "+", "removed": "-", "changed": "~"}


def _named(change) -> str:
    """The change's subject, with each changed field and the way it moves the contract."""
    if change.action != "changed":
        return change.subject + (" (entity)" if change.kind == "entity" else "")
    fields = [
        f.label if f.direction == Direction.UNTESTED else f"{f.label} {f.direction}"
        for f in change.fields
    ]
    return f"{change.subject} ({', '.join(fields)})"
