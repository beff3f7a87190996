from signoff import services
from signoff.choices import UatClassification
from workbench.management.args import choice_value
from workbench.management.base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Raise a UAT feedback item on an entity (or one of its attributes) of the mapping. "
        "A Tech BA or Client SME may."
    )

    def add_arguments(self, parser):
        parser.add_argument("--title", required=True, help="what is wrong, in one line")
        parser.add_argument("--description", default="", help="more detail, below the title")
        parser.add_argument(
            "--classification",
            default=UatClassification.MAPPING_CHANGE.value,
            help="mapping_change (default) or etl_fix; the labels work too",
        )
        parser.add_argument(
            "--entity", required=True, help="the interface entity the feedback is about"
        )
        parser.add_argument("--attribute", default="", help="the attribute, if it is about one")
        parser.add_argument("--owner", default="", help="username of the member who fixes it")
        parser.add_argument(
            "--test-result", dest="test_result", default="", help="id of the test-run result"
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        title = options["title"].strip()
        detail = options["description"].strip()
        item = services.do_raise_uat_item(
            engagement=engagement,
            data={
                "entity_name": options["entity"],
                "attribute_name": options["attribute"],
                "classification": choice_value(
                    UatClassification, options["classification"], "classification"
                ),
                "description": f"{title}\n\n{detail}" if detail else title,
                "owner": options["owner"],
                "test_result_ref": options["test_result"],
            },
            acting_user=user,
        )
        self.report(
            options,
            {
                "engagement": engagement.slug,
                "id": item.pk,
                "target": item.target,
                "classification": item.classification,
                "state": item.state,
                "owner": item.owner.username if item.owner else None,
                "description": item.description,
            },
            f"UAT item #{item.pk} raised on {item.target} ({item.get_classification_display()})",
        )
