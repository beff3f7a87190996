from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from exports.services import spec as services
from workbench.management.base import WorkbenchCommand
from workbench.uploads import UploadKind


class Command(WorkbenchCommand):
    help = (
        "Apply an edited Master Mapping Specification. Rows changed in the workbench since the "
        "export are conflicts: refused, never overwritten (the command then exits non-zero). "
        "Mapping rows the published contract implies are prepared first, as the acting user. "
        "JSON keys: engagement, file, dry_run, rows, changes [{sheet, row, key, fields}], "
        "conflicts [{sheet, row, key, row_version, current_version, fields}], notices, problems "
        "(a refused workbook: every problem; exit 1), applied, refused."
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
        content = self.read_input(options["file"], UploadKind.WORKBOOK)
        try:
            spec_import = services.spec_import_preview(
                engagement=engagement, file_name=path.name, content=content, acting_user=user
            )
        except ValidationError as exc:
            if options["output_format"] == "json":
                # Scripts get the problems as a list; the one-line reason still goes to stderr.
                self.report(options, _data(engagement, path, problems=exc.messages), "")
            raise
        preview = spec_import.preview
        lines = preview_lines(preview)
        if options["dry_run"]:
            services.spec_import_cancel(spec_import=spec_import, acting_user=user)
            lines.append(
                f"dry run: {len(preview['changes'])} changes, {len(preview['conflicts'])} "
                "conflicts; nothing applied"
            )
            self.report(
                options, _data(engagement, path, preview=preview, dry_run=True), lines_text(lines)
            )
            return
        spec_import = services.spec_import_apply(spec_import=spec_import, acting_user=user)
        lines.append(
            f"applied {spec_import.applied_count} changes "
            f"({spec_import.refused_count} conflicts refused)"
        )
        data = _data(
            engagement,
            path,
            preview=spec_import.preview,
            applied=spec_import.applied_count,
            refused=spec_import.refused_count,
        )
        self.report(options, data, lines_text(lines))
        if spec_import.refused_count:
            raise CommandError(
                f"{spec_import.refused_count} rows were changed in the workbench since the export "
                "and were not applied; export again, redo those edits and import."
            )


def lines_text(lines: list[str]) -> str:
    return "\n".join(lines)


def _data(
    engagement,
    path: Path,
    *,
    preview: dict | None = None,
    dry_run: bool = False,
    applied: int = 0,
    refused: int = 0,
    problems: list[str] | None = None,
) -> dict:
    """The JSON report: the same keys whatever happened (documented in the command's help)."""
    preview = preview or {}
    return {
        "engagement": engagement.slug,
        "file": str(path),
        "dry_run": dry_run,
        "rows": preview.get("rows", 0),
        "changes": [
            {"sheet": c["sheet"], "row": c["row"], "key": c["key"], "fields": c["fields"]}
            for c in preview.get("changes", [])
        ],
        "conflicts": [
            {k: c[k] for k in ("sheet", "row", "key", "row_version", "current_version", "fields")}
            for c in preview.get("conflicts", [])
        ],
        "notices": preview.get("notices", []),
        "problems": problems or [],
        "applied": applied,
        "refused": refused,
    }


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
