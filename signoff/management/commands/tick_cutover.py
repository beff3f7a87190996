from django.core.management.base import CommandError

from signoff import selectors, services
from signoff.choices import CutoverStep
from workbench import policy
from workbench.choices import EngagementStatus, Role
from workbench.management.args import USAGE, choice_value
from workbench.management.base import WorkbenchCommand
from workbench.policy import CUTOVER_TICK_ROLES, Action


class Command(WorkbenchCommand):
    help = (
        "Tick a step of the production cutover checklist (STEP as stored or its label), or "
        "--list the checklist with each step's state and who ticks it. The ETL Developer ticks "
        "the pipelines and the first run (with --link to the validated run), Client Ops the "
        "schedule."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "step",
            metavar="STEP",
            nargs="?",
            help="one of: " + ", ".join(f"{v} ({label})" for v, label in CutoverStep.choices),
        )
        parser.add_argument("--list", action="store_true", help="print the checklist only")
        parser.add_argument("--untick", action="store_true", help="untick the step instead")
        parser.add_argument("--link", default="", help="link to the validated run and its result")
        parser.add_argument("--note", default="", help="a note kept with the tick")
        super().add_arguments(parser)

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        user = self.acting_user(options, engagement)
        if options["list"]:
            policy.check(user, engagement, Action.VIEW)
            return self._print_checklist(engagement, options)
        if not options["step"]:
            raise CommandError("Name the STEP to tick, or use --list.", returncode=USAGE)
        step = choice_value(CutoverStep, options["step"], "cutover step")
        if options["untick"]:
            item = services.do_untick_cutover(engagement=engagement, step=step, acting_user=user)
        else:
            item = services.do_tick_cutover(
                engagement=engagement,
                step=step,
                acting_user=user,
                link=options["link"],
                note=options["note"],
            )
        engagement.refresh_from_db(fields=["status"])
        self.report(
            options,
            {**_item_data(item), "engagement": engagement.slug, "status": engagement.status},
            f"{'ticked' if item.ticked else 'unticked'} '{item.get_step_display()}'"
            + (
                " — the engagement is in production"
                if engagement.status == EngagementStatus.IN_PRODUCTION
                else ""
            ),
        )

    def _print_checklist(self, engagement, options) -> None:
        items = [_item_data(item) for item in selectors.cutover_checklist(engagement=engagement)]
        self.report(
            options,
            {"engagement": engagement.slug, "steps": items},
            lambda: "\n".join(
                f"[{'x' if i['ticked'] else ' '}] {i['step']:<22} {i['label']:<40} "
                + (f"ticked by {i['ticked_by']}" if i["ticked"] else f"by {i['ticked_by_roles']}")
                for i in items
            ),
        )


def _item_data(item) -> dict:
    roles = CUTOVER_TICK_ROLES[CutoverStep(item.step)]
    return {
        "step": item.step,
        "label": item.get_step_display(),
        "ticked": item.ticked,
        "ticked_by": item.ticked_by.username if item.ticked_by else None,
        "ticked_at": item.ticked_at,
        "link": item.link,
        "ticked_by_roles": " or ".join(sorted(str(Role(r).label) for r in roles)),
    }
