from django.core.management.base import CommandError

from contracts import services
from contracts.choices import LayerStatus
from contracts.models import InterfaceLayer
from workbench import policy
from workbench.management.base import WorkbenchCommand
from workbench.policy import Action


class Command(WorkbenchCommand):
    help = (
        "Publish a draft Interface Layer version (default: the newest draft); the version "
        "published before it is superseded. The mapping and the workbook follow the published "
        "version. An Implementation Lead or Tech BA may."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version` here is the contract's: it replaces Django's "print Django's version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "--version",
            "--contract-version",
            dest="contract_version",
            metavar="V",
            help="the draft version to publish, as import_contract reported it (e.g. 1.1.0)",
        )
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        policy.check(user, engagement, Action.IMPORT_CONTRACT)
        previous = InterfaceLayer.objects.filter(
            engagement=engagement, status=LayerStatus.PUBLISHED
        ).first()
        layer = services.contract_publish(
            layer=_draft(engagement, options["contract_version"]), acting_user=user
        )
        data = {
            "engagement": engagement.slug,
            "name": layer.name,
            "version": layer.version,
            "status": layer.status,
            "superseded": previous.version if previous else None,
        }
        text = f"published {layer.name} {layer.version}"
        if previous:
            text += f" (superseding {previous.version})"
        self.report(options, data, text)


def _draft(engagement, version: str | None) -> InterfaceLayer:
    layers = InterfaceLayer.objects.filter(engagement=engagement)
    if version is None:
        draft = layers.filter(status=LayerStatus.DRAFT).order_by("-imported_at", "-pk").first()
        if draft is None:
            raise CommandError(
                f"{engagement.slug} has no draft contract version to publish; "
                "import one with import_contract."
            )
        return draft
    matches = list(layers.filter(version=version))
    if not matches:
        known = ", ".join(layers.values_list("version", flat=True)) or "none"
        raise CommandError(
            f"{engagement.slug} has no contract version '{version}' (versions: {known})."
        )
    if len(matches) > 1:
        names = ", ".join(layer.name for layer in matches)
        raise CommandError(f"Several contracts have version '{version}': {names}.")
    return matches[0]
