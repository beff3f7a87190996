"""Phase 1 from the command line: sign-off owners, the glossary and the reference links, each acting
as a named member and refused (exit 1, one line saying why) for a role that may not."""

from __future__ import annotations

import pytest

from catalog.demo_mart import build_demo_mart
from catalog.models import CatalogTable
from contracts.demo import DEMO_CONTRACT
from contracts.selectors import published_entity_names
from tests.clirun import run_cli
from workbench.choices import LinkKind, Role
from workbench.models import GlossaryTerm, ReferenceLink, SignoffOwner
from workbench.phase_outputs import glossary_state, links_state, signoff_owners_state
from workbench.phases import OutputStatus, phase_cards

from ..factories import GlossaryTermFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cli(capsys, monkeypatch):
    return lambda *argv: run_cli(capsys, monkeypatch, *argv)


@pytest.fixture
def ops(engagement):
    return member(engagement, Role.CLIENT_OPS, "ops")


@pytest.fixture
def etl(engagement):
    return member(engagement, Role.ETL_DEVELOPER, "etl")


# --- set_signoff_owner ---------------------------------------------------------------------


def test_the_lead_names_both_signoff_owners_by_value_and_by_label(cli, engagement, lead, sme, ops):
    mapping = cli(
        "set_signoff_owner", "--engagement", "acme-360", "--as", lead.username, "mapping", "sme"
    )
    etl_gate = cli(
        "set_signoff_owner",
        "--engagement",
        "acme-360",
        "--as",
        lead.username,
        "--format",
        "json",
        "etl sign-off",
        "ops",
    )

    assert (mapping.code, mapping.out) == (0, "sme owns the Mapping sign-off of acme-360\n")
    assert etl_gate.code == 0
    assert etl_gate.json() == {
        "engagement": "acme-360",
        "gate": "etl",
        "owner": "ops",
    }
    assert signoff_owners_state(engagement).status == OutputStatus.DONE
    assert SignoffOwner.history.filter(history_user=lead).count() == 2


def test_a_tech_ba_may_not_name_a_signoff_owner(cli, engagement, ba, sme):
    refused = cli("set_signoff_owner", "--engagement", "acme-360", "--as", "ba", "mapping", "sme")

    assert refused.code == 1
    assert refused.err.startswith("CommandError: Your role in acme-360 does not allow this")
    assert "(manage signoff owners)" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert not SignoffOwner.objects.exists()


def test_an_ineligible_owner_or_an_unknown_gate_is_refused_with_the_reason(
    cli, engagement, lead, ba
):
    ineligible = cli(
        "set_signoff_owner", "--engagement", "acme-360", "--as", lead.username, "mapping", "ba"
    )
    unknown = cli(
        "set_signoff_owner", "--engagement", "acme-360", "--as", lead.username, "uat", "ba"
    )
    missing_user = cli("set_signoff_owner", "--engagement", "acme-360", "mapping")

    assert ineligible.code == 1
    assert "must be a member with the role Client SME; ba is Tech BA" in ineligible.err
    assert unknown.code == 1
    assert "Unknown sign-off 'uat'; choose one of: mapping (Mapping sign-off)" in unknown.err
    assert missing_user.code == 2  # argparse: USER is required
    assert not SignoffOwner.objects.exists()


# --- add_glossary_term ---------------------------------------------------------------------


def test_the_ba_adds_a_glossary_term_with_its_synonyms(cli, engagement, ba):
    added = cli(
        "add_glossary_term",
        "--engagement",
        "acme-360",
        "--as",
        "ba",
        "--format",
        "json",
        "Household",
        "--definition",
        "People living at one postal address.",
        "--synonyms",
        "hh, family",
    )

    assert added.code == 0, added.err
    data = added.json()
    assert data["term"] == "Household" and data["synonyms"] == ["hh", "family"]
    term = GlossaryTerm.objects.get(pk=data["id"])
    assert term.history.get().history_user == ba
    assert glossary_state(engagement).status == OutputStatus.DONE


def test_a_viewer_may_not_add_a_term_and_a_duplicate_is_refused(cli, engagement, ba, viewer):
    GlossaryTermFactory(engagement=engagement, term="Household")

    as_viewer = cli(
        "add_glossary_term", "--engagement", "acme-360", "--as", "viewer", "Lapsed",
        "--definition", "No purchase in 12 months.",
    )  # fmt: skip
    duplicate = cli(
        "add_glossary_term", "--engagement", "acme-360", "--as", "ba", "Household",
        "--definition", "Again.",
    )  # fmt: skip

    assert as_viewer.code == 1
    assert "does not allow this (edit glossary)" in as_viewer.err
    assert duplicate.code == 1
    assert "This term is already in the glossary." in duplicate.err
    assert list(GlossaryTerm.objects.values_list("term", flat=True)) == ["Household"]


# --- import_glossary -----------------------------------------------------------------------


def test_the_ba_imports_a_glossary_saved_by_excel(cli, engagement, ba, tmp_path):
    """Excel writes a byte-order mark, CRLF line ends and quotes around cells with commas."""
    csv_file = tmp_path / "glossary.csv"
    csv_file.write_bytes(
        "\ufeffTerm,Definition,Synonyms\r\n"
        'Household,"People at one address, as the Mart counts them.","hh, family"\r\n'
        ",,\r\n"
        "Lapsed customer,No purchase in 12 months.,\r\n".encode()
    )

    imported = cli(
        "import_glossary", "--engagement", "acme-360", "--as", "ba", "--format", "json",
        str(csv_file),
    )  # fmt: skip

    assert imported.code == 0, imported.err
    assert imported.json() == {
        "engagement": "acme-360",
        "imported": 2,
        "terms": ["Household", "Lapsed customer"],
    }
    household = GlossaryTerm.objects.get(term="Household")
    assert household.definition == "People at one address, as the Mart counts them."
    assert household.synonym_list == ["hh", "family"]
    assert household.history.get().history_user == ba


def test_a_glossary_with_refused_rows_imports_nothing_and_names_each_row(
    cli, engagement, ba, tmp_path
):
    GlossaryTermFactory(engagement=engagement, term="Household")
    csv_file = tmp_path / "glossary.csv"
    csv_file.write_text(
        "Term,Definition\n"
        "Lapsed customer,No purchase in 12 months.\n"
        "Household,Already there.\n"
        "Prospect,\n"
        "Lapsed customer,Twice in the file.\n"
    )

    refused = cli("import_glossary", "--engagement", "acme-360", "--as", "ba", str(csv_file))

    assert refused.code == 1
    reason = refused.err.strip()
    assert reason == (
        "CommandError: Nothing imported: row 3: This term is already in the glossary; "
        "row 4: definition: This field cannot be blank; "
        "row 5: This term is already in the glossary."
    )
    assert list(GlossaryTerm.objects.values_list("term", flat=True)) == ["Household"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "The file is empty; the first row must be: Term,Definition."),
        (b"Term,Meaning\nA,B\n", "Unknown column 'Meaning' in the first row"),
        (b"Term,Synonyms\nA,B\n", "The first row has no Definition column."),
        (b"Term,Definition\n", "The file has a header but no terms."),
        (b"Term,Definition\nA,B,C\n", "row 2: a value outside the named columns"),
        ("Term,Definition\nCaf\u00e9,B\n".encode("latin-1"), "The file is not UTF-8 text"),
    ],
)
def test_a_malformed_glossary_file_is_refused_with_what_is_wrong(
    cli, engagement, ba, tmp_path, content, reason
):
    csv_file = tmp_path / "glossary.csv"
    csv_file.write_bytes(content)

    refused = cli("import_glossary", "--engagement", "acme-360", "--as", "ba", str(csv_file))

    assert refused.code == 1
    assert reason in refused.err
    assert not GlossaryTerm.objects.exists()


def test_an_etl_developer_may_not_import_a_glossary_nor_anyone_a_missing_file(
    cli, engagement, ba, etl, tmp_path
):
    csv_file = tmp_path / "glossary.csv"
    csv_file.write_text("Term,Definition\nA,B\n")

    as_etl = cli("import_glossary", "--engagement", "acme-360", "--as", "etl", str(csv_file))
    missing = cli(
        "import_glossary", "--engagement", "acme-360", "--as", "ba", str(tmp_path / "nope.csv")
    )

    assert as_etl.code == 1 and "does not allow this (edit glossary)" in as_etl.err
    assert missing.code == 1 and "Cannot read" in missing.err and "nope.csv" in missing.err
    assert not GlossaryTerm.objects.exists()


# --- add_link ------------------------------------------------------------------------------


def test_the_etl_developer_links_every_kind_of_reference(cli, engagement, etl):
    for kind in ("mart_docs", "Sample data access", "interface-erd"):
        done = cli(
            "add_link", "--engagement", "acme-360", "--as", "etl", "--format", "json", kind,
            f"https://wiki.example.test/{kind.replace(' ', '-')}",
        )  # fmt: skip
        assert done.code == 0, done.err

    assert set(ReferenceLink.objects.values_list("kind", "title")) == {
        (LinkKind.MART_DOCS, "Mart documentation"),
        (LinkKind.SAMPLE_DATA, "Sample data access"),
        (LinkKind.INTERFACE_ERD, "Interface ERD"),
    }
    assert links_state(engagement).status == OutputStatus.DONE
    assert ReferenceLink.history.filter(history_user=etl).count() == 3


def test_a_link_with_a_title_prints_it_and_a_bad_url_or_kind_is_refused(cli, engagement, ba):
    titled = cli(
        "add_link", "--engagement", "acme-360", "--as", "ba", "other",
        "https://wiki.example.test/runbook", "--title", "Runbook",
    )  # fmt: skip
    bad_url = cli(
        "add_link", "--engagement", "acme-360", "--as", "ba", "other", "javascript:alert(1)"
    )
    bad_kind = cli(
        "add_link", "--engagement", "acme-360", "--as", "ba", "video", "https://x.example.test"
    )

    assert (titled.code, titled.out) == (0, "added Other link 'Runbook' to acme-360\n")
    assert bad_url.code == 1 and "url: Enter a valid URL." in bad_url.err
    assert bad_kind.code == 1 and "Unknown link kind 'video'" in bad_kind.err
    assert ReferenceLink.objects.count() == 1


def test_a_client_sme_may_not_add_a_link(cli, engagement, sme):
    refused = cli(
        "add_link", "--engagement", "acme-360", "--as", "sme", "mart_docs",
        "https://wiki.example.test/mart",
    )  # fmt: skip

    assert refused.code == 1
    assert "does not allow this (edit links)" in refused.err
    assert not ReferenceLink.objects.exists()


# --- the first phases, by commands only ----------------------------------------------------


def test_orientation_source_understanding_and_interface_notes_done_by_commands_only(
    cli, engagement, lead, ba, sme, ops, etl, tmp_path
):
    """After members are added (add_member's own story is elsewhere), the lead, the Tech BA and
    the ETL Developer take every phase-1 and phase-2 output and the interface notes to done
    without a page or the API."""
    mart = build_demo_mart(tmp_path / "mart.sqlite3")
    glossary = tmp_path / "glossary.csv"
    glossary.write_text("Term,Definition\nHousehold,People at one address.\n")
    slug = ("--engagement", "acme-360")

    def ok(*argv: str) -> dict:
        ran = cli(*argv[:1], *slug, "--format", "json", *argv[1:])
        assert ran.code == 0, ran.err
        return ran.json()

    ok("set_signoff_owner", "--as", lead.username, "mapping", "sme")
    ok("set_signoff_owner", "--as", lead.username, "etl", "ops")
    ok("import_glossary", "--as", "ba", str(glossary))
    for kind in ("mart_docs", "sample_data", "interface_erd"):
        ok("add_link", "--as", "etl", kind, f"https://wiki.example.test/{kind}")
    assert cli("import_contract", *slug, "--as", "ba", "--publish", str(DEMO_CONTRACT)).code == 0
    introspected = cli(
        "introspect_mart", *slug, "--as", "etl", "--url", f"sqlite:///{mart}", "--profile"
    )
    assert introspected.code == 0, introspected.err
    tables = [t.qualified_name for t in CatalogTable.objects.filter(engagement=engagement)]
    for table in tables:
        ok("describe_table", "--as", "ba", table, "--subject-area", "marketing", "--grain", "row")
    entities = published_entity_names(engagement=engagement)
    for table, entity in zip(tables, entities[:2], strict=False):
        ok("add_impacted_entity", "--as", "ba", table, entity)
    for entity in entities:
        ok("add_interface_note", "--as", "etl", entity, f"Read {entity} with the SME.")

    states = {
        output.key: state.status
        for card in phase_cards(engagement)
        for output, state in card.outputs
    }
    wanted = [
        "members",
        "signoff_owners",
        "glossary",
        "links",
        "catalog",
        "profiles",
        "source_notes",
        "impacted_entities",
        "contract",
        "interface_notes",
    ]
    assert {key: states[key] for key in wanted} == dict.fromkeys(wanted, OutputStatus.DONE)
