"""Running a management command as the shell does (`manage.py NAME ARGS`), inside a test: the real
exit status (0, 1 refused, 2 usage), stdout and stderr, without leaving the test's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import get_commands, load_command_class


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
