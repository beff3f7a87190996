"""Hostile contract files: refused from the parser's events, before any value is built."""

from __future__ import annotations

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from contracts import services
from contracts.importers import fast_yaml
from contracts.models import InterfaceLayer

pytestmark = pytest.mark.django_db


def alias_bomb(levels: int = 9, *, tag: str = "") -> str:
    """Each level is a list of nine aliases of the level before: 9**levels values when expanded."""
    lines = [f"{tag}l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


BOMB_MESSAGE = (
    "bomb.yaml: line 5, column 10: refused: aliases would expand to more than 10,000 values."
)


def test_an_alias_bomb_is_refused_naming_the_line_and_nothing_is_saved(engagement, ba):
    # given a 500-byte YAML file whose aliases expand to 387 million values
    content = alias_bomb().encode()
    assert len(content) < 500

    # when a Tech BA imports it
    with pytest.raises(ValidationError) as exc:
        services.contract_import(
            engagement=engagement, file_name="bomb.yaml", content=content, acting_user=ba
        )

    # then it is refused at the alias that passes the budget, and nothing is saved
    assert exc.value.messages == [BOMB_MESSAGE]
    assert InterfaceLayer.objects.count() == 0


def test_the_budget_is_checked_from_events_before_the_full_loader_builds_anything(
    engagement, ba, monkeypatch
):
    # given a bomb with an explicit tag, which sends the document to PyYAML's full loader
    content = alias_bomb(tag="tagged: !!str yes\n").encode()

    def never(*args, **kwargs):
        raise AssertionError("the full loader was reached")

    monkeypatch.setattr(fast_yaml.yaml, "load", never)

    # when it is imported, then the refusal comes before the full loader is called
    with pytest.raises(ValidationError) as exc:
        services.contract_import(
            engagement=engagement, file_name="bomb.yaml", content=content, acting_user=ba
        )

    assert exc.value.messages == [
        "bomb.yaml: line 6, column 10: refused: aliases would expand to more than 10,000 values."
    ]


def test_the_fast_loader_never_receives_more_aliases_than_the_budget_allows():
    # given the bomb's event stream, counted as it is handed to the loader
    events = fast_yaml.within_limits(yaml.parse(alias_bomb()), alias_budget=10_000)
    passed_aliases = 0

    # when it is read, then it stops at the level where the expansion passes the budget
    with pytest.raises(fast_yaml.YamlLimitError):
        for event in events:
            passed_aliases += isinstance(event, yaml.AliasEvent)

    assert passed_aliases < 9 * 4


def test_a_few_aliases_within_the_budget_still_load():
    text = "base: &b {x: 1}\nuse: *b\nlist: &l [1, 2]\nagain: *l\nmerged:\n  <<: *b\n  y: 2\n"

    assert fast_yaml.load_yaml(text) == {
        "base": {"x": 1},
        "use": {"x": 1},
        "list": [1, 2],
        "again": [1, 2],
        "merged": {"x": 1, "y": 2},
    }


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        pytest.param(
            "self.yaml",
            "a: &a [1, *a]\n",
            "self.yaml: line 1, column 11: refused: an alias refers to a value that contains it.",
            id="self-reference",
        ),
        pytest.param(
            "deep.yaml",
            "a: " + "[" * 150 + "]" * 150 + "\n",
            "deep.yaml: line 1, column 103: refused: nested more than 100 levels deep.",
            id="deep-yaml",
        ),
        pytest.param(
            "deep.json",
            "[" * 100_000 + "]" * 100_000,
            "deep.json: refused: the document is nested too deeply.",
            id="deep-json",
        ),
    ],
)
def test_self_reference_and_deep_nesting_are_refused(engagement, ba, file_name, content, message):
    with pytest.raises(ValidationError) as exc:
        services.contract_import(
            engagement=engagement, file_name=file_name, content=content.encode(), acting_user=ba
        )

    assert exc.value.messages == [message]
    assert InterfaceLayer.objects.count() == 0


def test_an_alias_bomb_through_the_api_is_a_400(ba):
    api = APIClient()
    api.force_authenticate(ba)

    response = api.post(
        "/api/v1/engagements/acme-360/contract/layers/",
        {"file": SimpleUploadedFile("bomb.yaml", alias_bomb().encode())},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": [BOMB_MESSAGE]}
    assert InterfaceLayer.objects.count() == 0


def test_an_alias_bomb_on_the_command_line_is_a_one_line_error(engagement, ba, tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())

    with pytest.raises(CommandError) as exc:
        call_command("import_contract", "--engagement", "acme-360", "--as", "ba", str(bomb))

    assert str(exc.value) == BOMB_MESSAGE
    assert InterfaceLayer.objects.count() == 0
