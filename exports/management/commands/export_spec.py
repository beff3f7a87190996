from pathlib import Path

from django.core.management.base import CommandError

from exports.services import spec as services
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Write the Master Mapping Specification workbook (.xlsx) of an engagement: a row for every "
        "entity and attribute of the published contract (rows not prepared yet are saved first "
        "when the acting user may edit the mapping). JSON keys: engagement, output, cover {the "
        "Cover sheet's labels and values}."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-o", "--output", required=True, metavar="FILE.xlsx", help="workbook to write"
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        path = Path(options["output"])
        if path.suffix.lower() != ".xlsx":
            raise CommandError(f"Name the output FILE.xlsx, not {path.name}.")
        try:
            cover = services.spec_export(engagement=engagement, acting_user=user, stream=str(path))
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}.") from None
        self.report(
            options,
            {"engagement": engagement.slug, "output": str(path), "cover": cover},
            f"exported the specification of {engagement.slug} "
            f"({cover['Contract']} {cover['Contract Version']}, hash "
            f"{cover['Content Hash'][:12]}) to {path}",
        )
