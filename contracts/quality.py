"""The thresholds of ODCS quality rules: how many bad rows a rule accepts, in rows or in percent.

A library rule such as `invalidValues` counts the rows that break it and compares the count with
its threshold (`mustBe: 0`, `mustBeLessOrEqualTo: 5` with `unit: percent`, …). The contract
diff reads thresholds to judge whether a change tightens or loosens a rule; the unit tests of a
test run and the generated dbt tests read them so that a 5 % tolerance is not a hard rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# In the order the standard's tools read them: the first one present is the threshold.
THRESHOLD_KEYS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)
PERCENT_UNITS = {"percent", "%"}
_WORDS = {
    "mustBe": "exactly {a}",
    "mustNotBe": "anything but {a}",
    "mustBeGreaterThan": "more than {a}",
    "mustBeGreaterOrEqualTo": "at least {a}",
    "mustBeLessThan": "fewer than {a}",
    "mustBeLessOrEqualTo": "at most {a}",
    "mustBeBetween": "between {a} and {b}",
    "mustNotBeBetween": "not between {a} and {b}",
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class Threshold:
    """`operator` (an ODCS key such as mustBeLessOrEqualTo) applied to the count of bad rows, or
    to their share of all rows when `percent`."""

    operator: str
    low: float
    high: float | None = None  # the second bound of the two between operators
    percent: bool = False

    def passes(self, measured: float) -> bool:
        low, high = self.low, self.high if self.high is not None else self.low
        return {
            "mustBe": measured == low,
            "mustNotBe": measured != low,
            "mustBeGreaterThan": measured > low,
            "mustBeGreaterOrEqualTo": measured >= low,
            "mustBeLessThan": measured < low,
            "mustBeLessOrEqualTo": measured <= low,
            "mustBeBetween": low <= measured <= high,
            "mustNotBeBetween": not low <= measured <= high,
        }[self.operator]

    def passes_count(self, bad_rows: int, total_rows: int) -> bool:
        """Whether `bad_rows` out of `total_rows` pass (an empty table has no bad share)."""
        if not self.percent:
            return self.passes(bad_rows)
        return self.passes(100.0 * bad_rows / total_rows if total_rows else 0.0)

    @property
    def is_strict(self) -> bool:
        """No bad row accepted at all: the plain rule of the contract, without a tolerance."""
        smallest_bad = 1e-9 if self.percent else 1  # a sliver of one row, or one row
        return self.passes(0) and not self.passes(smallest_bad)

    def describe(self) -> str:
        unit = "% of the rows" if self.percent else " rows"
        words = _WORDS[self.operator].format(a=_shown(self.low), b=_shown(self.high))
        return f"{words}{unit}"


def _shown(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else str(value)


def rule_threshold(rule: dict) -> Threshold | None:
    """The threshold of a quality rule as written; None when it has none (or not a number)."""
    percent = str(rule.get("unit") or "").strip().lower() in PERCENT_UNITS
    for key in THRESHOLD_KEYS:
        if rule.get(key) is None:
            continue
        value = rule[key]
        if key in ("mustBeBetween", "mustNotBeBetween"):
            bounds = [_number(v) for v in value] if isinstance(value, list) else []
            if len(bounds) != 2 or None in bounds:
                return None
            low, high = sorted(b for b in bounds if b is not None)
            return Threshold(key, low, high, percent)
        number = _number(value)
        return None if number is None else Threshold(key, number, None, percent)
    return None


NO_BAD_ROWS = Threshold("mustBe", 0.0)


def allowed_values_rule(attribute) -> dict:
    """The `invalidValues` rule behind an attribute's allowed values, as far as the contract
    kept it: the importer reads its validValues into `allowed_values` and keeps the rest of the
    rule (threshold, unit, name…) either as `extra["validValuesRule"]` or among the quality rules."""
    extra = attribute.extra or {}
    kept = extra.get("validValuesRule")
    if isinstance(kept, dict):
        return kept
    for rule in extra.get("quality") or []:
        if (
            isinstance(rule, dict)
            and (rule.get("metric") or rule.get("rule")) == "invalidValues"
            and (rule.get("arguments") or {}).get("validValues") == attribute.allowed_values
        ):
            return rule
    return {}


def allowed_values_threshold(attribute) -> Threshold:
    """How many rows outside the allowed values the contract accepts (none unless it says so)."""
    return rule_threshold(allowed_values_rule(attribute)) or NO_BAD_ROWS
