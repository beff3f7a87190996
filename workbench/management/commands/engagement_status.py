from workbench import policy
from workbench.management.base import WorkbenchCommand
from workbench.phases import current_phase, phase_cards
from workbench.policy import Action


class Command(WorkbenchCommand):
    help = (
        "The phase tracker of the dashboard: every phase and the state of each of its outputs "
        "(not started, in progress, done)."
    )

    def handle(self, *args, **options):
        engagement = self.engagement(options)
        policy.check(self.acting_user(options, engagement), engagement, Action.VIEW)
        cards = phase_cards(engagement)
        phase = current_phase(engagement, cards)
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
            for card in cards
        ]
        data = {
            "engagement": engagement.slug,
            "name": engagement.name,
            "status": engagement.status,
            "current_phase": int(phase.phase),
            "derived_phase": int(phase.derived),
            "phase_overridden": phase.overridden,
            "phases": phases,
        }
        self.report(options, data, lambda: _text(engagement, phase, phases))


def _text(engagement, phase, phases: list[dict]) -> str:
    current = f"current phase {int(phase.phase)}. {phase.phase.label}"
    if phase.overridden:
        current += f" (set by hand; the outputs say {int(phase.derived)}. {phase.derived.label})"
    lines = [f"{engagement.name} ({engagement.slug}): {engagement.get_status_display()}, {current}"]
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
