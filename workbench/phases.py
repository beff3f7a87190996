"""The six phases of the process and the state of each phase's outputs, for the dashboard.

Each output has a function `(engagement) -> OutputState`. The engagement core knows phase 1;
later apps register theirs with `@phase_output(...)` in their `phases.py`, loaded by AppConfig.ready.
An output nobody has registered yet is shown as not started.

A list of engagements needs only each output's status; an app registers that for many
engagements at once with `@phase_statuses(...)` (a fixed number of queries), so the engagement
list, the API and the CLI show the derived phase without computing every card of every engagement.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum

from .choices import Phase


class OutputStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class OutputState:
    status: OutputStatus
    detail: str = ""
    url: str = ""


@dataclass
class PhaseOutput:
    key: str
    name: str
    compute: Callable[..., OutputState] | None = None
    # engagements -> {engagement pk: status}, the same statuses `compute` gives, in bulk
    statuses: Callable[[list], dict[int, OutputStatus]] | None = None


@dataclass
class PhaseCard:
    phase: Phase
    outputs: list[tuple[PhaseOutput, OutputState]] = field(default_factory=list)

    @property
    def status(self) -> OutputStatus:
        statuses = {state.status for _, state in self.outputs}
        if statuses == {OutputStatus.DONE}:
            return OutputStatus.DONE
        if statuses == {OutputStatus.NOT_STARTED}:
            return OutputStatus.NOT_STARTED
        return OutputStatus.IN_PROGRESS

    @property
    def done_count(self) -> int:
        return sum(1 for _, state in self.outputs if state.status == OutputStatus.DONE)


# The outputs the process asks for in each phase (DESIGN.md, process table).
PHASE_OUTPUTS: dict[Phase, list[PhaseOutput]] = {
    Phase.ORIENTATION: [
        PhaseOutput("members", "Members and roles"),
        PhaseOutput("signoff_owners", "Sign-off owners"),
        PhaseOutput("glossary", "Glossary"),
        PhaseOutput("links", "Reference links"),
    ],
    Phase.SOURCE_UNDERSTANDING: [
        PhaseOutput("catalog", "Mart catalog"),
        PhaseOutput("profiles", "Data profiles"),
        PhaseOutput("source_notes", "Source understanding notes"),
        PhaseOutput("impacted_entities", "Impacted interface entities"),
    ],
    Phase.INTERFACE_AND_MAPPING: [
        PhaseOutput("contract", "Interface Layer contract"),
        PhaseOutput("interface_notes", "Interface understanding notes"),
        PhaseOutput("mappings", "Entity and attribute mappings"),
        PhaseOutput("feasibility", "Feasibility check"),
        PhaseOutput("gap", "GAP document"),
        PhaseOutput("mapping_signoff", "Mapping sign-off"),
    ],
    Phase.ETL_BUILD: [
        PhaseOutput("etl_design", "ETL job design"),
        PhaseOutput("generated_etl", "Generated ETL"),
        PhaseOutput("unit_tests", "Unit Test Package"),
    ],
    Phase.VALIDATION: [
        PhaseOutput("uat_feedback", "UAT feedback"),
        PhaseOutput("uat_signoff", "UAT sign-off"),
    ],
    Phase.DEPLOYMENT: [
        PhaseOutput("cutover", "Cutover checklist"),
        PhaseOutput("kt_docs", "Knowledge-transfer documentation"),
        PhaseOutput("in_production", "In production"),
    ],
}

NOT_STARTED = OutputState(OutputStatus.NOT_STARTED)


def _output(key: str) -> PhaseOutput:
    for outputs in PHASE_OUTPUTS.values():
        for output in outputs:
            if output.key == key:
                return output
    raise KeyError(f"No phase output named '{key}'.")


def phase_output(key: str) -> Callable[[Callable[..., OutputState]], Callable[..., OutputState]]:
    """Register the function that computes the state of the output `key`."""

    def decorate(fn: Callable[..., OutputState]) -> Callable[..., OutputState]:
        _output(key).compute = fn
        return fn

    return decorate


def phase_statuses(key: str):
    """Register the function giving the status of the output `key` for many engagements."""

    def decorate(fn: Callable[[list], dict[int, OutputStatus]]):
        _output(key).statuses = fn
        return fn

    return decorate


def by_engagement(rows: Iterable[tuple]) -> defaultdict[int, list]:
    """(engagement pk, value) rows grouped: {pk: [value, …]}."""
    grouped: defaultdict[int, list] = defaultdict(list)
    for pk, value in rows:
        grouped[pk].append(value)
    return grouped


@dataclass(frozen=True)
class CurrentPhase:
    phase: Phase  # what the dashboard calls current
    derived: Phase  # what the phase outputs say
    overridden: bool  # a Lead set it by hand


def derived_phase(cards: list[PhaseCard]) -> Phase:
    """The furthest phase whose outputs have started; the next one once it is done. Phases
    overlap in practice, so work started later wins over a phase-1 link still missing."""
    started = [card for card in cards if card.status != OutputStatus.NOT_STARTED]
    if not started:
        return Phase.ORIENTATION
    furthest = started[-1]
    if furthest.status == OutputStatus.DONE and furthest.phase < max(Phase.values):
        return Phase(furthest.phase + 1)
    return Phase(furthest.phase)


def current_phase(engagement, cards: list[PhaseCard]) -> CurrentPhase:
    derived = derived_phase(cards)
    if engagement.phase_overridden:
        return CurrentPhase(Phase(engagement.current_phase), derived, overridden=True)
    return CurrentPhase(derived, derived, overridden=False)


def current_phases(engagements: Iterable) -> dict[int, CurrentPhase]:
    """The current phase of each engagement, as its dashboard shows it, from the outputs'
    statuses in bulk (an output without a bulk function is computed engagement by engagement)."""
    engagements = list(engagements)
    statuses: dict[str, dict[int, OutputStatus]] = {}
    for outputs in PHASE_OUTPUTS.values():
        for output in outputs:
            if output.statuses:
                statuses[output.key] = output.statuses(engagements)
            else:
                statuses[output.key] = {
                    e.pk: output.compute(e).status if output.compute else OutputStatus.NOT_STARTED
                    for e in engagements
                }
    result = {}
    for engagement in engagements:
        cards = [
            PhaseCard(
                phase,
                [(o, OutputState(statuses[o.key][engagement.pk])) for o in outputs],
            )
            for phase, outputs in PHASE_OUTPUTS.items()
        ]
        result[engagement.pk] = current_phase(engagement, cards)
    return result


# Readings several outputs share, kept for the length of one phase_cards call (never longer, so
# a later call sees the data as it is then).
_shared_readings: ContextVar[dict | None] = ContextVar("shared_readings", default=None)


def shared_reading(fn: Callable) -> Callable:
    """Make `fn(engagement)` run once per phase_cards call however many outputs ask for it
    (the mapping outputs share one aggregate); outside a call it simply runs."""

    @functools.wraps(fn)
    def read(engagement):
        memo = _shared_readings.get()
        if memo is None:
            return fn(engagement)
        key = (fn, engagement.pk)
        if key not in memo:
            memo[key] = fn(engagement)
        return memo[key]

    return read


def phase_cards(engagement) -> list[PhaseCard]:
    token = _shared_readings.set({})
    try:
        cards = []
        for phase, outputs in PHASE_OUTPUTS.items():
            card = PhaseCard(phase)
            for output in outputs:
                state = output.compute(engagement) if output.compute else NOT_STARTED
                card.outputs.append((output, state))
            cards.append(card)
        return cards
    finally:
        _shared_readings.reset(token)
