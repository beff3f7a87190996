from pathlib import Path

from django.core.management.base import CommandError

from exports.services import spec as services
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Apply an edited Master Mapping Specification. Rows changed in the workbench since the "
        "export are conflicts: refused, never overwritten (the command then exits non-zero)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.xlsx", help="the edited workbook")
        parser.add_argument(
            "--dry-run", action="store_true", help="print the changes and conflicts; apply nothing"
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
        spec_import = services.spec_import_preview(
            engagement=engagement, file_name=path.name, content=content, acting_user=user
        )
        preview = spec_import.preview
        for line in preview_lines(preview):
            self.stdout.write(line)
        if options["dry_run"]:
            services.spec_import_cancel(spec_import=spec_import, acting_user=user)
            self.stdout.write(
                f"dry run: {len(preview['changes'])} changes, {len(preview['conflicts'])} "
                "conflicts; nothing applied"
            )
            return
        spec_import = services.spec_import_apply(spec_import=spec_import, acting_user=user)
        self.stdout.write(
            f"applied {spec_import.applied_count} changes "
            f"({spec_import.refused_count} conflicts refused)"
        )
        if spec_import.refused_count:
            raise CommandError(
                f"{spec_import.refused_count} rows were changed in the workbench since the export "
                "and were not applied; export again, redo those edits and import."
            )


def preview_lines(preview: dict) -> list[str]:
    lines = []
    for change in preview["changes"]:
        lines.append(f"~ {change['sheet']} row {change['row']}: {change['key']}")
        for f in change["fields"]:
            lines.append(f"    {f['column']}: {f['before']!r} -> {f['after']!r}")
    for conflict in preview["conflicts"]:
        lines.append(
            f"! conflict {conflict['sheet']} row {conflict['row']}: {conflict['key']} "
            f"(workbook version {conflict['row_version']}, now {conflict['current_version']}"
            f"{' by ' + conflict['updated_by'] if conflict['updated_by'] else ''})"
        )
        for f in conflict["fields"]:
            lines.append(
                f"    {f['column']}: workbook {f['workbook']!r} | workbench {f['current']!r}"
            )
    lines.extend(f"note: {notice}" for notice in preview["notices"])
    return lines
