"""Running management commands inside a test: `run` / `run_json` / `refused` call one through
Django's call_command (its output, its JSON, its refusal), `run_cli` as the shell does
(`manage.py NAME ARGS`: the real exit status 0, 1 refused, 2 usage, stdout and stderr) without
leaving the test's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, *argv: str) -> Ran:
    # run_from_argv closes the connections afterwards: the test's transaction must survive it.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    capsys.readouterr()
    name = argv[0]
    command = load_command_class(get_commands()[name], name)
    try:
        command.run_from_argv(["manage.py", *argv])
        code = 0
    except SystemExit as exited:
        code = int(exited.code or 0)
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def run(*args: str) -> str:
    """What the command prints."""
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_json(*args: str) -> Any:
    """What the command prints with --format json, read."""
    return json.loads(run(*args, "--format", "json"))


def refused(*args: str) -> CommandError:
    """The command's refusal (it must refuse)."""
    with pytest.raises(CommandError) as error:
        run(*args)
    return error.value
