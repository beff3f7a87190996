from workbench import services
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Add a term to the engagement's glossary. An Implementation Lead, Tech BA or Client SME "
        "may."
    )

    def add_arguments(self, parser):
        parser.add_argument("term", metavar="TERM", help="the term, e.g. 'Household'")
        parser.add_argument("--definition", required=True, help="what the term means")
        parser.add_argument(
            "--synonyms", default="", help="comma-separated words the client or the Mart uses"
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        term = services.glossary_term_create(
            engagement=engagement,
            data={
                "term": options["term"].strip(),
                "definition": options["definition"].strip(),
                "synonyms": options["synonyms"].strip(),
            },
            acting_user=user,
        )
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "id": term.pk,
                "term": term.term,
                "definition": term.definition,
                "synonyms": term.synonym_list,
            },
            f"added glossary term '{term.term}' to {engagement.slug}",
        )
