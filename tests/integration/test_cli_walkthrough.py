"""The README's command-line walk-through, run exactly as written: a new engagement goes from an
empty database to production with commands only, five people each at their step, the mapping
written in the exported workbook (filled here with openpyxl, as the Tech BA would in Excel). No
step opens a page or calls the API. At the end every phase output is done."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User

from catalog.demo_mart import build_demo_mart
from exports.spec import layout
from mappings.demo import DEMO_MAPPING, ISO_DATE
from tests.clirun import run_cli
from workbench.phases import PHASE_OUTPUTS

pytestmark = pytest.mark.django_db

README = Path(settings.BASE_DIR) / "README.md"
CAPTURE = re.compile(r"^(\w+)=\$\((manage\.py .+) \| jq -r \.(\w+)\)$")

# The BA's workbook takes the demo's entities and rules as they are (churned customers kept, events
# without a campaign left out, phones in E.164: the demo's mapping passes its own unit tests).
# Beyond the demo's rules: the Mart's subscriptions are channel opt-ins, so the plan is the
# channel, and the money the contract asks for does not exist here.
EXTRA_RULES = {
    ("subscription", "plan_code"): ("'OPTIN-' || s.channel_code", ""),
    ("subscription", "status"): (
        "CASE WHEN UPPER(s.opt_in_flag) IN ('Y', '1', 'YES') THEN 'active' ELSE 'cancelled' END",
        "",
    ),
    ("subscription", "start_date"): (
        f"CAST({ISO_DATE.format(col='COALESCE(s.opt_in_date, s.opt_out_date)')} AS DATE)",
        "2016-01-01",
    ),
    ("subscription", "end_date"): (
        f"CAST({ISO_DATE.format(col='s.opt_out_date')} AS DATE)",
        "",
    ),
}
NOT_APPLICABLE = {("subscription", "monthly_value"), ("email_event", "bounce_reason")}


def walkthrough_lines() -> list[str]:
    """The shell lines of the README's walk-through block, comments and blanks left out."""
    text = README.read_text()
    block = text.split("<!-- cli-walkthrough:start -->", 1)[1].split(
        "<!-- cli-walkthrough:end -->"
    )[0]
    body = block.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in body.splitlines() if line.strip() and not line.startswith("#")]


def fill_workbook(path: Path) -> None:
    """What the Tech BA types into the exported workbook: each entity's FROM clause and schedule,
    each attribute's rule, default and edge cases; two attributes are not applicable here."""
    book = openpyxl.load_workbook(path)
    entities = book[layout.ENTITIES]
    header = [cell.value for cell in entities[1]]
    for row in entities.iter_rows(min_row=2):
        values = dict(zip(header, row, strict=False))
        name = values["Interface Entity"].value
        source = DEMO_MAPPING[name]["from"]
        values["Driving Table"].value = source["driving_table"]
        values["Alias"].value = source["driving_alias"]
        values["Joins"].value = source.get("joins", "")
        values["Filter"].value = source.get("filter", "")
        values["Frequency"].value = source.get("frequency", "daily")
    mapping = book[layout.MAPPING]
    header = [cell.value for cell in mapping[1]]
    for row in mapping.iter_rows(min_row=2):
        values = dict(zip(header, row, strict=False))
        key = (values["Interface Entity"].value, values["Interface Attribute"].value)
        if key in NOT_APPLICABLE:
            values["Status"].value = "Not Applicable"
            values["Notes"].value = "The Mart has no such value."
            continue
        if key in EXTRA_RULES:
            rule, default = EXTRA_RULES[key]
            edge_cases = ""
        else:
            rule, default, edge_cases = DEMO_MAPPING[key[0]]["attributes"][key[1]]
        direct = " " not in rule and "(" not in rule
        values["Source Column(s)" if direct else "Transformation"].value = rule
        values["Default Value"].value = default
        values["Edge Cases"].value = edge_cases
    book.save(path)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh working folder with what the README assumes: the demo Mart file in var/ (which
    `make run` builds) and the repository's contracts/ folder."""
    build_demo_mart(tmp_path / "var" / "demo_mart.sqlite3")
    (tmp_path / "contracts").symlink_to(Path(settings.BASE_DIR) / "contracts")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEAM_PASSWORD", "a-long-enough-team-secret")
    lena = User.objects.create_user("lena", email="lena@globex.example")
    lena.user_permissions.add(Permission.objects.get(codename="add_engagement"))
    return tmp_path


def test_the_readme_walkthrough_takes_a_new_engagement_to_production(workdir, capsys, monkeypatch):
    variables: dict[str, str] = {}
    ran: list[str] = []
    for line in walkthrough_lines():
        for name, value in variables.items():
            line = line.replace(f'"${name}"', value)
        capture = CAPTURE.match(line)
        argv = shlex.split(capture.group(2) if capture else line)
        assert argv[0] == "manage.py", line
        result = run_cli(capsys, monkeypatch, *argv[1:])
        assert result.code == 0, f"{line}\n→ exit {result.code}: {result.err or result.out}"
        ran.append(argv[1])
        if capture:
            variables[capture.group(1)] = str(result.json()[capture.group(3)])
        if argv[1] == "export_spec":
            fill_workbook(workdir / argv[argv.index("-o") + 1])

    # every step was a command, the workbook round trip included
    assert {"export_spec", "import_spec", "run_etl_test", "decide_review"} <= set(ran)
    status = json.loads(result.out)
    states = {o["key"]: o["state"] for phase in status["phases"] for o in phase["outputs"]}
    details = {o["key"]: o["detail"] for phase in status["phases"] for o in phase["outputs"]}
    assert {k: (s, details[k]) for k, s in states.items() if s != "done"} == {}
    assert set(states) == {o.key for outputs in PHASE_OUTPUTS.values() for o in outputs}
