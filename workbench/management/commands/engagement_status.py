from workbench import policy
from workbench.management.base import WorkbenchCommand
from workbench.phases import phase_cards
from workbench.policy import Action


class Command(WorkbenchCommand):
    help = (
        "The phase tracker of the dashboard: every phase and the state of each of its outputs "
        "(not started, in progress, done)."
    )

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        policy.check(self.acting_user(options, engagement), engagement, Action.VIEW)
        phases = [
            {
                "number": int(card.phase),
                "name": card.phase.label,
                "state": card.status.value,
                "done": card.done_count,
                "total": len(card.outputs),
                "outputs": [
                    {
                        "key": output.key,
                        "name": output.name,
                        "state": state.status.value,
                        "detail": state.detail,
                    }
                    for output, state in card.outputs
                ],
            }
            for card in phase_cards(engagement)
        ]
        data = {
            "engagement": engagement.slug,
            "name": engagement.name,
            "status": engagement.status,
            "current_phase": engagement.current_phase,
            "phases": phases,
        }
        self.report(options, data, lambda: _text(engagement, phases))


def _text(engagement, phases: list[dict]) -> str:
    lines = [f"{engagement.name} ({engagement.slug}): {engagement.get_status_display()}"]
    for phase in phases:
        lines.append(
            f"{phase['number']}. {phase['name']}: {phase['state'].replace('_', ' ')} "
            f"({phase['done']}/{phase['total']})"
        )
        for output in phase["outputs"]:
            detail = f" — {output['detail']}" if output["detail"] else ""
            lines.append(f"   [{_MARK[output['state']]}] {output['name']}{detail}")
    return "\n".join(lines)


_MARK = {"done": "x", "in_progress": "~", "not_started": " "}
