"""Reading a contract's YAML: plain block documents take the rapid route (rapidyaml), everything
else the current one, and both give exactly what PyYAML's safe loader gives, dates as strings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ValidationError

from bench.bench_contracts import generated_contract
from contracts import services
from contracts.importers import fast_yaml
from contracts.importers.fast_yaml import NotPlain, StringDatesLoader, load_plain, load_yaml
from contracts.importers.odcs import load_document
from contracts.models import InterfaceLayer

from .conftest import DEMO_FILE, as_yaml, small_contract

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_FILES = [DEMO_FILE, *sorted((ROOT / "tests" / "contracts" / "odcs").glob("*.yaml"))]

RAPID, CURRENT = "rapid", "current"

# A plain contract as a Tech BA might write one by hand: no quotes, flow lists or folded text.
PLAIN_DEMO_LIKE = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:acme:marketing-360
name: Marketing 360
version: 1.0.0
status: active
description:
  purpose: One consistent picture of each customer, where they live and what they buy.
  usage: Loaded daily from the client's Marketing Data Mart; read by the CDP (and by e-mail tools).
tags:
- marketing
- customer-360
schema:
- name: customer
  physicalName: if_customer
  businessName: Customer
  description: A person known to the brand, e.g. a subscriber or a buyer.
  dataGranularityDescription: One row per distinct person.
  properties:
  - name: customer_id
    logicalType: string
    physicalType: VARCHAR(36)
    required: true
    unique: true
    primaryKey: true
    primaryKeyPosition: 1
    examples:
    - 8f14e45f-ceea-467a-9575-2a1c3e4b5d6f
    customProperties:
    - property: canonicalMeaning
      value: Golden record key, stable across the client's systems.

  - name: email
    logicalType: string
    physicalType: VARCHAR(254)
    classification: PII
    logicalTypeOptions:
      maxLength: 254
      format: email
    examples:
    - jane.doe@example.com
  - name: birth_date
    logicalType: date
    physicalType: DATE
    examples:
    - 1984-06-30
  - name: lifetime_value
    logicalType: number
    physicalType: DECIMAL(12,2)
    logicalTypeOptions:
      minimum: 0
      maximum: 99999.99
    quality:
    - type: library
      metric: nullValues
      mustBe: 0
"""


def exactly(value):
    """`value` with the type of every key and scalar spelled out, so that 1, 1.0, True and '1'
    never compare equal."""
    if isinstance(value, dict):
        return {exactly(key): exactly(item) for key, item in value.items()}, list(map(repr, value))
    if isinstance(value, list):
        return [exactly(item) for item in value]
    return type(value).__name__, repr(value)


def pyyaml(text: str):
    return yaml.load(text, Loader=StringDatesLoader)  # noqa: S506 - a SafeLoader subclass


def route(text: str) -> str:
    try:
        load_plain(text)
    except NotPlain:
        return CURRENT
    return RAPID


def outcome(load, text: str):
    try:
        return exactly(load(text))
    except yaml.YAMLError as exc:
        return type(exc).__name__, str(exc)


@pytest.fixture
def current_route_unavailable(monkeypatch):
    """The current route fails loudly: whatever loads, loads through rapidyaml."""

    def never(*args, **kwargs):
        raise AssertionError("the current route was taken")

    monkeypatch.setattr(fast_yaml, "load_events", never)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: path.name)
def test_every_sample_contract_loads_as_pyyaml_reads_it(path):
    text = path.read_text(encoding="utf-8")

    assert exactly(load_yaml(text)) == exactly(pyyaml(text))


def test_the_bench_contract_takes_the_rapid_route_and_loads_as_pyyaml_reads_it(
    current_route_unavailable,
):
    # given the benchmark's contract shape (200 × 100 there; the shape is what matters here)
    content = generated_contract(entities=12, attributes=30)

    # when it is read as an import reads it, then rapidyaml read it, and PyYAML agrees
    document = load_document("generated.odcs.yaml", content, "odcs_yaml")

    assert exactly(document) == exactly(pyyaml(content.decode()))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(PLAIN_DEMO_LIKE, id="hand-written"),
        pytest.param(as_yaml(small_contract()).decode(), id="written-by-pyyaml"),
    ],
)
def test_a_plain_demo_like_contract_takes_the_rapid_route(text, current_route_unavailable):
    assert exactly(load_yaml(text)) == exactly(pyyaml(text))


CORPUS = [
    # what JSON spells as PyYAML does
    pytest.param("required: true\nunique: false\nnote: null\nempty:\n", RAPID, id="json-words"),
    pytest.param("- a\n-\n- \n- b\n", RAPID, id="empty-list-items"),
    pytest.param("- name:\n  type: x\n", RAPID, id="empty-value-in-entry"),
    pytest.param("position: 1\nnegative: -7\nzero: 0\nminus-zero: -0\n", RAPID, id="ints"),
    pytest.param("big: 123456789012345678901234567890\n", RAPID, id="big-int"),
    pytest.param("a: 1.5\nb: 0.25\nc: -2.5\nd: 1.0e+3\ne: 2.5E-2\n", RAPID, id="floats"),
    pytest.param("half: .5\nwhole: 1.\nnegative: -3.\nzero: 0.\n", RAPID, id="floats-json-lacks"),
    pytest.param("huge: 1.0e+999\ntiny: -1.0e+999\n", RAPID, id="floats-beyond-range"),
    pytest.param("- -1\n- -2.5\n- 3\n", RAPID, id="negative-list"),
    # dates stay strings
    pytest.param(
        "day: 2024-01-31\nstamp: 2024-01-31 10:30:00\niso: 2024-01-31T10:30:00Z\n",
        RAPID,
        id="dates",
    ),
    # strings near a value PyYAML would resolve
    pytest.param(
        "a: yess\nb: nulls\nc: truth\nd: 1.2.3\ne: 1-2\nf: 0:0\ng: 12abc\nh: y\ni: n\nj: Y\n",
        RAPID,
        id="almost-values",
    ),
    pytest.param("url: http://example.com/a?b=c&d=e#frag\nurn: urn:x:y\n", RAPID, id="colons"),
    pytest.param("owner: The customer's key\nlanguage: C#\n", RAPID, id="apostrophe-hash"),
    pytest.param("type: DECIMAL(12,2)\nnote: a[1] and b{2}, c|d, x>y\n", RAPID, id="brackets"),
    pytest.param(
        "name: Clé\nemoji: 😀 ok\ncyrillic: ключ\ncjk: 中文\n🙂: smile\n", RAPID, id="unicode"
    ),
    pytest.param("name: padded   \ntype: x \n", RAPID, id="trailing-spaces"),
    pytest.param("a: 1\n\n   \nb: 2\n", RAPID, id="blank-lines"),
    pytest.param("a: 1", RAPID, id="no-final-line-break"),
    pytest.param("name: first\ntype: x\nname: last\n", RAPID, id="duplicate-keys"),
    pytest.param("- a\n- b\n", RAPID, id="top-level-list"),
    pytest.param("- name: a\n  type: x\n- name: b\n", RAPID, id="list-of-mappings"),
    pytest.param("a:\n- 1\n- 2\nb:\n  - 3\n  - 4\n", RAPID, id="indentless-and-indented"),
    pytest.param("-\n  a: 1\n- x\n", RAPID, id="entry-opening-on-next-line"),
    pytest.param("key with spaces: v\n-dash-first: w\nx:y: z\n", RAPID, id="odd-keys"),
    pytest.param(f"description: {'word ' * 190}end\n", RAPID, id="long-line"),
    pytest.param(
        "".join(f"{' ' * level}k{level}:\n" for level in range(30)) + " " * 30 + "leaf: 1\n",
        RAPID,
        id="thirty-levels",
    ),
    # what the rapid route leaves to the current one
    pytest.param(f"description: {'word ' * 1000}end\n", CURRENT, id="very-long-line"),
    pytest.param(
        "".join(f"{' ' * level}k{level}:\n" for level in range(45)) + " " * 45 + "leaf: 1\n",
        CURRENT,
        id="forty-five-levels",
    ),
    pytest.param("a: yes\nb: No\nc: ON\nd: off\n", CURRENT, id="yaml-1.1-booleans"),
    pytest.param("a: ~\nb: Null\nc: NULL\n", CURRENT, id="nulls"),
    pytest.param("a: 012\nb: 0x1F\nc: 0b101\nd: 0o17\n", CURRENT, id="octal-hex-binary"),
    pytest.param("a: 1:30\nb: -1:30:00\nc: 1:30.5\n", CURRENT, id="sexagesimal"),
    pytest.param("time: 12:30\n", CURRENT, id="a-time-is-an-int"),
    pytest.param("a: 1_000\nb: 1_000.5\n", CURRENT, id="underscores"),
    pytest.param("a: +1\nb: +1.5\n", CURRENT, id="plus-sign"),
    pytest.param("a: 1e3\nb: 1.0e3\nc: 1E+3\n", CURRENT, id="exponents-pyyaml-keeps"),
    pytest.param("a: -.5\n", CURRENT, id="negative-leading-dot"),
    pytest.param("a: .inf\nb: -.inf\nc: .NaN\nd: inf\n", CURRENT, id="inf-nan"),
    pytest.param("1: one\ntrue: yes\nnull: nothing\n2.5: x\n", CURRENT, id="keys-not-strings"),
    pytest.param("=: x\n", CURRENT, id="value-key"),
    pytest.param("description: first line\n  second line\n\n  after a blank\n", CURRENT, id="ml"),
    pytest.param("- item\n  continued\n", CURRENT, id="multi-line-entry"),
    pytest.param("key:\n  value on the next line\n", CURRENT, id="value-on-next-line"),
    pytest.param('quote: A "golden" record\n', CURRENT, id="quote-after-space"),
    pytest.param("a: 'x'\nb: \"y\"\n", CURRENT, id="quoted"),
    pytest.param("a: [1, 2]\nb: {c: d}\n", CURRENT, id="flow"),
    pytest.param("a: |\n  x\nb: >-\n  y\n", CURRENT, id="block-scalars"),
    pytest.param("a: &x 1\nb: *x\n", CURRENT, id="anchors"),
    pytest.param("a: !!str 1\n", CURRENT, id="tags"),
    pytest.param("? a\n: b\n", CURRENT, id="complex-key"),
    pytest.param("# header\na: 1 # trailing\n", CURRENT, id="comments"),
    pytest.param("---\na: 1\n...\n", CURRENT, id="document-markers"),
    pytest.param("- - a\n  - b\n", CURRENT, id="nested-list-on-one-line"),
    pytest.param("a:\tb\n", CURRENT, id="tab"),
    pytest.param("a: 1\r\nb: 2\r\n", CURRENT, id="crlf"),
    pytest.param("a: x\u00a0y\n", CURRENT, id="no-break-space"),
    pytest.param("just text\n", CURRENT, id="top-level-scalar"),
    pytest.param("42\n", CURRENT, id="top-level-number"),
    pytest.param("", CURRENT, id="empty"),
    pytest.param("  \n", CURRENT, id="blank"),
]


@pytest.mark.parametrize(("text", "expected_route"), CORPUS)
def test_a_tricky_document_loads_exactly_as_pyyaml_reads_it(text, expected_route):
    assert route(text) == expected_route
    assert exactly(load_yaml(text)) == exactly(pyyaml(text))


MALFORMED = [
    pytest.param("a: b: c\n", id="two-colons"),
    pytest.param("note: see: the manual\n", id="colon-space-in-a-value"),
    pytest.param("a:\n  b: 1\n c: 2\n", id="indentation"),
    pytest.param("a: 1\n a: 2\n", id="deeper-key"),
    pytest.param("- a\nb: c\n", id="list-then-mapping"),
    pytest.param("a: - b\n", id="entry-after-key"),
    pytest.param("a: 1\nb\nc: 2\n", id="key-without-colon"),
    pytest.param("k: ,x\n", id="comma-first"),
    pytest.param("k: @x\n", id="reserved-indicator"),
    pytest.param("k" * 1100 + ": x\n", id="key-too-long"),
    pytest.param("k: x\x85y\n", id="next-line-character"),
    pytest.param("k: x\x00\n", id="nul"),
    pytest.param("<<: x\n", id="merge-of-a-string"),
    pytest.param("a: =\n", id="value-indicator"),
]


@pytest.mark.parametrize("text", MALFORMED)
def test_a_malformed_plain_document_is_refused_in_the_current_routes_words(text):
    with pytest.raises(NotPlain):
        load_plain(text)
    with pytest.raises(yaml.YAMLError):
        fast_yaml.load_events(text)

    assert outcome(load_yaml, text) == outcome(fast_yaml.load_events, text)


HOSTILE = [
    pytest.param(
        "".join(f"{' ' * level}k{level}:\n" for level in range(150)) + " " * 150 + "x: 1\n",
        id="deep-by-indentation",
    ),
    pytest.param("- " * 150 + "x\n", id="deep-by-entries-on-one-line"),
    pytest.param("a: " + "[" * 150 + "]" * 150 + "\n", id="deep-flow"),
    pytest.param(
        "l0: &l0 [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 9)),
        id="alias-bomb",
    ),
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_document_gets_the_current_refusal_before_rapidyaml_reads_it(text, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("rapidyaml read a hostile document")

    monkeypatch.setattr(fast_yaml.ryml, "parse_in_arena", never)

    with pytest.raises(fast_yaml.YamlLimitError) as exc:
        load_yaml(text)
    with pytest.raises(fast_yaml.YamlLimitError) as current:
        fast_yaml.load_events(text)

    assert (exc.value.problem, str(exc.value)) == (current.value.problem, str(current.value))


@pytest.mark.django_db
def test_a_contract_nested_deep_by_indentation_is_refused_naming_the_line(engagement, ba):
    content = "".join(f"{' ' * level}k{level}:\n" for level in range(150)).encode()

    with pytest.raises(ValidationError) as exc:
        services.contract_import(
            engagement=engagement, file_name="deep.yaml", content=content, acting_user=ba
        )

    assert exc.value.messages == [
        "deep.yaml: line 101, column 101: refused: nested more than 100 levels deep."
    ]
    assert InterfaceLayer.objects.count() == 0


def test_the_indentation_the_pre_scan_admits_stays_within_the_depth_bound():
    # two collections per column at most: a sequence may sit at its key's own column
    assert 2 * (fast_yaml._MAX_INDENT + 1) < fast_yaml.MAX_DEPTH


def test_without_rapidyaml_every_document_takes_the_current_route(monkeypatch):
    monkeypatch.setattr(fast_yaml, "ryml", None)

    with pytest.raises(NotPlain):
        load_plain("a: 1\n")
    assert load_yaml(PLAIN_DEMO_LIKE) == pyyaml(PLAIN_DEMO_LIKE)
