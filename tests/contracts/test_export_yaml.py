"""The export writes YAML through libyaml's C emitter, and the text is the one PyYAML's
pure-Python emitter wrote before: same key order, quoting, line folding and unicode."""

from __future__ import annotations

import pytest
import yaml

from contracts import exporters
from contracts.exporters import dump_yaml, layer_to_odcs, layer_to_yaml

from .test_export import reimport, snapshot

PYTHON_OPTIONS = {"sort_keys": False, "allow_unicode": True, "default_flow_style": False}


def python_emitter(document) -> str:
    """The export as written before: PyYAML's pure-Python emitter."""
    return yaml.dump(document, Dumper=exporters._Dumper, width=100, **PYTHON_OPTIONS)


def test_the_demo_export_goes_through_libyaml_and_is_the_text_written_before(
    published_demo, lead, monkeypatch
):
    expected = python_emitter(layer_to_odcs(published_demo))
    # the pure-Python emitter is not used for the demo contract
    monkeypatch.setattr(exporters, "_Dumper", None)

    text = layer_to_yaml(published_demo)

    assert exporters._CDumper.__mro__[1] is yaml.CSafeDumper
    assert text == expected
    # and it re-imports losslessly
    again = reimport(published_demo, lead)
    assert snapshot(again) == snapshot(published_demo)
    assert layer_to_yaml(again) == text


# Text libyaml writes differently; the export falls back to the pure-Python emitter for them.
DIFFERENT_IN_LIBYAML = [
    "Emoji 😀 and 𝔘",  # beyond the Basic Multilingual Plane: libyaml escapes them
    "next\x85line",  # NEL
    "tab\tseparated " * 12,  # double quoted and folded at another place
    "control \x07 character",
    "\ufeffbyte order mark",
    "line ending in a space \nand more " * 5,
    "multi-line text\nending in a space ",
]


@pytest.mark.parametrize("text", DIFFERENT_IN_LIBYAML)
def test_text_libyaml_writes_differently_is_written_as_before(text):
    document = {"description": text, "examples": [text, {"nested": text}]}

    assert dump_yaml(document) == python_emitter(document)
    if "\x85" not in text:  # PyYAML writes NEL raw in single quotes, read back as a space
        assert yaml.safe_load(dump_yaml(document)) == document


@pytest.mark.parametrize("key", ["", "a\nb", "clé " * 12])
def test_keys_libyaml_writes_differently_are_written_as_before(key):
    document = {"customProperties": [{key: "value"}]}

    assert dump_yaml(document) == python_emitter(document)


def test_ordinary_text_of_every_shape_is_the_same_through_libyaml(monkeypatch):
    words = ["plain", "Note: a colon", "#hash", "'quoted'", '"double"', "- dash", "yes", "null"]
    words += ["1.5", "2024-01-01", "é ü 中文", "{braces}", "[list]", "a # b", "x" * 150]
    words += [" ".join(["word"] * 40), "Déjà vu: " * 20, "first\nsecond\n", "\nleading", ""]
    document = {
        "schema": [
            {"name": word, "properties": [{"description": word, "examples": [word, 1, None]}]}
            for word in words
        ],
        **{f"key {index} ü": word for index, word in enumerate(words)},
    }
    expected = python_emitter(document)
    monkeypatch.setattr(exporters, "_Dumper", None)  # libyaml only

    assert dump_yaml(document) == expected
