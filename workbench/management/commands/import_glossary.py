from workbench.glossary_csv import glossary_import_csv
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Import glossary terms from a UTF-8 CSV whose first row is Term,Definition[,Synonyms]. "
        "All or nothing: a refused row (say, a term already in the glossary) is reported with its "
        "line number and nothing is imported. An Implementation Lead, Tech BA or Client SME may."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv", help="the CSV file of terms")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        content = self.read_input(options["file"])
        terms = glossary_import_csv(engagement=engagement, content=content, acting_user=user)
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "imported": len(terms),
                "terms": [t.term for t in terms],
            },
            f"imported {len(terms)} glossary term{'s' if len(terms) != 1 else ''} into "
            f"{engagement.slug}",
        )
