"""tests/unit_tests.sql and tests/mart_checks.sql: the one list of checks (exports.testrun.checks)
as SQL files a client runs as shipped, and the small reader that runs them.

The format, for a runner of a few lines (an Airflow quality gate, a CI job): after the header's
comment lines, each check is a line `-- <check>: <description>` — <check> is the check's key,
`entity.attribute.kind`, one word — followed by exactly one query whose last line ends with `;`.
Each query of tests/unit_tests.sql returns one number, the rows breaking the check: 0 is a pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exports.testrun.checks import Check, all_checks
from exports.testrun.choices import CheckKind

from . import sql
from .plan import EtlPlan

# `-- customer.phone.pattern: phone matches …`; no header line has one word before its colon.
CHECK_LINE = re.compile(r"^-- (?P<key>[^\s:]+): (?P<description>.*)$")


@dataclass(frozen=True)
class ShippedCheck:
    """One check as a shipped file holds it."""

    key: str
    description: str
    sql: str

    @property
    def entity(self) -> str:
        return self.key.split(".")[0]

    @property
    def kind(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    @property
    def attribute(self) -> str:
        """The attribute ("" for a check of the entity; a composite key's columns joined by
        ", ", as Check.attribute)."""
        parts = self.key.split(".")
        return ".".join(parts[1:-1]).replace("+", ", ")


def parse_checks(text: str) -> list[ShippedCheck]:
    """The checks of a shipped file, in file order."""
    found: list[ShippedCheck] = []
    current: tuple[str, str] | None = None
    lines: list[str] = []
    for line in text.splitlines():
        named = CHECK_LINE.match(line)
        if named and not lines:
            current = (named["key"], named["description"])
            continue
        if current is None or (not lines and not line.strip()):
            continue
        lines.append(line)
        if line.rstrip().endswith(";"):
            found.append(ShippedCheck(current[0], current[1], "\n".join(lines).rstrip()[:-1]))
            current, lines = None, []
    return found


def _entry(check: Check, tree, dialect: str) -> list[str]:
    return [
        "",
        f"-- {check.key}: {check.description}",
        sql.render_statement(tree, dialect).rstrip(),
    ]


def unit_tests_sql(plan: EtlPlan, dialect: str) -> str:
    """Every check that reads the loaded target, one query each."""
    out = [
        f"-- Unit tests of the {plan.contract_name} interface load ({dialect}), to run on the target",
        "-- after the load, where the sql/ scripts ran (the Mart's tables reachable as there).",
        "-- Before each query a line `-- <check>: <description>`, <check> being the check's key",
        "-- entity.attribute.kind; each query ends with `;` at the end of its last line and",
        "-- returns one number, the rows breaking the check: 0 is a pass.",
        "-- A record-count query returns the difference between the rows the extraction yields",
        "-- from the Mart and the rows in the interface table (0: every row loaded, none extra).",
        "-- The checks that read the Mart alone are in tests/mart_checks.sql.",
    ]
    if dialect == "sqlite":
        out.append("-- SQLite has no REGEXP function of its own. Register one on the connection")
        out.append("-- (Python: connection.create_function('regexp', 2, …)) for the pattern tests.")
    for check in all_checks(plan, dialect=dialect):
        if check.on_source or check.violations is None:
            continue  # it reads the Mart: tests/mart_checks.sql carries it
        out += _entry(check, check.shipped_tree(), dialect)
    return "\n".join(out) + "\n"


def mart_checks_sql(plan: EtlPlan, dialect: str) -> str:
    """The checks that read the Mart (each rule's result before the load's casts could cut it),
    each rendered in its entity's Mart dialect: they run on the source database."""
    marts = {entity.name: entity.dialect for entity in plan.entities}
    out = [
        f"-- Checks of the {plan.contract_name} mapping to run on the Mart (the source), in the",
        "-- format of tests/unit_tests.sql. A 'fits_before_cast' query returns the rows breaking",
        "-- the rule (0 is a pass); a 'field_values' query lists the rule's values for the sampled",
        "-- keys, to compare with the interface table.",
    ]
    for check in all_checks(plan, dialect=dialect):
        mart = marts.get(check.entity) or dialect
        if check.on_source and check.violations is not None:
            out += _entry(check, check.count_tree(), mart)
        elif check.kind == CheckKind.FIELD_VALUES and check.source is not None:
            out += _entry(check, check.source, mart)
    return "\n".join(out) + "\n"
