"""Reviews, UAT feedback and the cutover checklist from the command line, each role as itself:
the Tech BA asks for the mapping sign-off, the named SME decides it, the ETL Developer and Client
Ops tick their cutover steps. Refusals exit 1 with one line naming who may."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from contracts.demo import DEMO_CONTRACT
from mappings.demo import apply_demo_mapping
from signoff.choices import Gate, ReviewState
from signoff.models import CutoverItem, ReviewRequest, UatItem
from tests.clirun import refused, run, run_json
from tests.factories import EngagementFactory, member
from workbench.choices import Role
from workbench.models import Engagement

pytestmark = pytest.mark.django_db

SLUG = ("--engagement", "acme-360")


def request_mapping_review() -> dict:
    return run_json("request_review", *SLUG, "--as", "ba", "--gate", "mapping")


# --- request_review, list_reviews, decide_review -------------------------------------------------


def test_the_ba_requests_the_mapping_signoff_and_the_sme_approves_it(ready, ba, sme):
    requested = run_json(
        "request_review", *SLUG, "--as", "ba", "--gate", "Mapping", "--comment", "Ready."
    )

    review = requested["review"]
    assert (review["gate"], review["version"], review["state"], review["message"]) == (
        "mapping",
        1,
        "requested",
        "Ready.",
    )
    assert requested["deciders"] == ["sme"]

    listed = run_json("list_reviews", *SLUG, "--as", "sme", "--open")
    assert [r["id"] for r in listed["reviews"]] == [review["id"]]
    assert run("list_reviews", *SLUG, "--as", "sme").startswith(f"#{review['id']}")

    decided = run_json("decide_review", *SLUG, "--as", "sme", str(review["id"]), "--approve")

    assert decided["review"]["state"] == "approved"
    assert decided["review"]["decisions"][0]["by"] == "sme"
    status = run_json("engagement_status", *SLUG, "--as", "ba")
    signoff = {o["key"]: o for p in status["phases"] for o in p["outputs"]}["mapping_signoff"]
    assert (signoff["state"], signoff["detail"]) == ("done", "version 1 approved")


def test_the_review_text_line_names_the_deciders(ready, ba, sme):
    output = run("request_review", *SLUG, "--as", "ba", "--gate", "mapping")
    review = ReviewRequest.objects.get()
    assert output.startswith(f"review #{review.pk} requested: Mapping sign-off of version 1 (hash ")
    assert output.endswith("; decided by sme\n")


def test_etl_names_the_etl_signoff_given_at_the_uat_gate(ready, ba, ops):
    requested = run_json("request_review", *SLUG, "--as", "ba", "--gate", "etl")
    assert requested["review"]["gate"] == Gate.UAT
    assert requested["deciders"] == ["ops"]


def test_an_unknown_gate_lists_the_gates(ready, ba):
    error = refused("request_review", *SLUG, "--as", "ba", "--gate", "design")
    assert str(error) == (
        "Unknown gate 'design'; choose one of: mapping (Mapping sign-off), uat (UAT sign-off), "
        "cutover (Cutover)."
    )
    assert not ReviewRequest.objects.exists()


def test_an_sme_cannot_request_a_review(ready, sme):
    error = refused("request_review", *SLUG, "--as", "sme", "--gate", "mapping")
    assert str(error).endswith("(submit for review); only an Implementation Lead or Tech BA may.")


def test_only_the_named_owner_decides_and_a_rejection_needs_a_comment(ready, ba, sme, other_sme):
    review_id = str(request_mapping_review()["review"]["id"])

    error = refused("decide_review", *SLUG, "--as", "sme2", review_id, "--approve")
    assert str(error).startswith("Only ")
    assert str(error).endswith(", the named owner, decides the Mapping sign-off.")

    error = refused("decide_review", *SLUG, "--as", "sme", review_id, "--reject")
    assert str(error) == "comment: Say what needs to change: a rejection needs a comment."
    assert ReviewRequest.objects.get().state == ReviewState.REQUESTED

    output = run(
        "decide_review", *SLUG, "--as", "sme", f"#{review_id}", "--reject", "--comment", "No."
    )
    assert (
        output == f"review #{review_id}: Mapping sign-off of version 1 changes requested by sme\n"
    )
    assert ReviewRequest.objects.get().state == ReviewState.CHANGES_REQUESTED


def test_a_review_of_another_engagement_is_not_found(ready, ba, sme):
    review_id = str(request_mapping_review()["review"]["id"])
    other = EngagementFactory(slug="globex")
    member(other, Role.CLIENT_SME, "globex-sme")

    error = refused(
        "decide_review", "--engagement", "globex", "--as", "globex-sme", review_id, "--approve"
    )

    assert str(error) == f"globex has no review #{review_id}; list_reviews shows them."
    assert ReviewRequest.objects.get().state == ReviewState.REQUESTED


def test_a_review_number_that_is_not_a_number_is_a_usage_error(ready, sme):
    error = refused("decide_review", *SLUG, "--as", "sme", "latest", "--approve")
    assert (str(error), error.returncode) == ("'latest' is not a review number.", 2)


# --- raise_uat -----------------------------------------------------------------------------------


def test_the_sme_raises_uat_feedback_on_an_attribute(ready, sme, etl):
    data = run_json(
        "raise_uat",
        *SLUG,
        *("--as", "sme", "--title", "Trailing spaces in e-mails"),
        *("--classification", "ETL fix", "--entity", "customer", "--attribute", "email"),
        *("--owner", "etl", "--description", "Seen in run 42."),
    )

    item = UatItem.objects.get()
    assert data["id"] == item.pk
    assert (data["target"], data["classification"], data["owner"]) == (
        "customer.email",
        "etl_fix",
        "etl",
    )
    assert item.description == "Trailing spaces in e-mails\n\nSeen in run 42."
    assert item.history.get().history_user == sme


def test_uat_feedback_refusals_name_who_may_and_what_is_valid(ready, etl, sme):
    error = refused("raise_uat", *SLUG, "--as", "etl", "--title", "x", "--entity", "customer")
    assert str(error).endswith("(raise uat feedback); only a Tech BA or Client SME may.")

    error = refused("raise_uat", *SLUG, "--as", "sme", "--title", "x", "--entity", "nowhere")
    assert str(error) == "entity_name: 'nowhere' is not an entity of the mapping."

    error = refused(
        "raise_uat", *SLUG, "--as", "sme", "--title", "x", "--entity", "customer",
        "--classification", "cosmetic",
    )  # fmt: skip
    assert str(error).startswith("Unknown classification 'cosmetic'; choose one of: mapping_change")
    assert not UatItem.objects.exists()


# --- tick_cutover --------------------------------------------------------------------------------


def test_the_checklist_lists_every_step_with_who_ticks_it(ready, viewer):
    data = run_json("tick_cutover", *SLUG, "--as", "viewer", "--list")

    assert [(s["step"], s["ticked"], s["ticked_by_roles"]) for s in data["steps"]] == [
        ("pipelines_deployed", False, "ETL Developer"),
        ("first_run_validated", False, "ETL Developer"),
        ("schedule_confirmed", False, "Client Ops (L2)"),
    ]
    assert not CutoverItem.objects.exists()


def test_the_etl_developer_ticks_a_step_by_its_label(ready, etl):
    data = run_json("tick_cutover", *SLUG, "--as", "etl", "pipelines deployed")

    assert (data["step"], data["ticked"], data["ticked_by"]) == ("pipelines_deployed", True, "etl")
    item = CutoverItem.objects.get()
    assert item.history.get().history_user == etl
    listed = run("tick_cutover", *SLUG, "--as", "etl", "--list").splitlines()
    assert listed[0].startswith("[x] pipelines_deployed") and listed[0].endswith("ticked by etl")

    output = run("tick_cutover", *SLUG, "--as", "etl", "pipelines_deployed", "--untick")
    assert output == "unticked 'Pipelines deployed'\n"
    assert not CutoverItem.objects.get().ticked


def test_cutover_refusals(ready, ops, etl):
    error = refused("tick_cutover", *SLUG, "--as", "ops", "pipelines_deployed")
    assert str(error) == "'Pipelines deployed' is ticked by the ETL Developer."

    error = refused("tick_cutover", *SLUG, "--as", "etl", "first_run_validated")
    assert str(error) == "link: Link the validated run and its result."

    error = refused("tick_cutover", *SLUG, "--as", "etl", "go_live")
    assert str(error).startswith("Unknown cutover step 'go_live'; choose one of:")

    error = refused("tick_cutover", *SLUG, "--as", "etl")
    assert (str(error), error.returncode) == ("Name the STEP to tick, or use --list.", 2)
    assert not CutoverItem.objects.filter(ticked=True).exists()


# --- a new engagement, each role at its step, from the command line ------------------------------


def test_from_a_new_engagement_to_production_each_role_by_command(db, demo_mart_file, monkeypatch):
    """The lead sets up the team, the Tech BA publishes the contract and submits, the SME signs
    off the mapping, the lead approves the cutover, the ETL Developer and Client Ops tick their
    steps: the engagement goes live. The mapping rows are the demo's, written by the services (the
    workbook round trip has its own stories)."""
    lead = User.objects.create_user("lena")
    lead.user_permissions.add(Permission.objects.get(codename="add_engagement"))
    monkeypatch.setenv("TEAM_PASSWORD", "a-long-enough-secret")
    run("create_engagement", "globex", "--name", "Globex 360", "--as", "lena")
    team = {
        "bao": "Tech BA",
        "ed": "etl_developer",
        "sara": "client sme",
        "otto": "Client Ops (L2)",
    }
    for username, role in team.items():
        run(
            "add_member", "--engagement", "globex", "--as", "lena", username, role,
            "--create", "--password-env", "TEAM_PASSWORD",
        )  # fmt: skip
    as_ = {u: ("--engagement", "globex", "--as", u) for u in ["lena", *team]}
    run("set_signoff_owner", *as_["lena"], "mapping", "sara")
    run("set_signoff_owner", *as_["lena"], "etl", "otto")

    run("import_contract", *as_["bao"], str(DEMO_CONTRACT))
    run("publish_contract", *as_["bao"])
    run("introspect_mart", *as_["ed"], "--url", f"sqlite:///{demo_mart_file}")
    apply_demo_mapping(Engagement.objects.get(slug="globex"), User.objects.get(username="bao"))

    mapping = run_json("request_review", *as_["bao"], "--gate", "mapping")["review"]["id"]
    run("decide_review", *as_["sara"], str(mapping), "--approve")
    cutover = run_json("request_review", *as_["bao"], "--gate", "cutover")["review"]["id"]
    error = refused("decide_review", *as_["sara"], str(cutover), "--approve")
    assert str(error) == "Only an Implementation Lead decides the Cutover."
    run("decide_review", *as_["lena"], str(cutover), "--approve")
    run("tick_cutover", *as_["ed"], "pipelines_deployed")
    run("tick_cutover", *as_["ed"], "first_run_validated", "--link", "https://ci.example.test/1")
    last = run_json("tick_cutover", *as_["otto"], "Load schedule confirmed by Client Ops")

    assert last["status"] == "in_production"
    status = run_json("engagement_status", *as_["sara"])
    outputs = {o["key"]: o["state"] for p in status["phases"] for o in p["outputs"]}
    assert {k: outputs[k] for k in ["members", "signoff_owners", "contract", "catalog"]} == {
        "members": "done",
        "signoff_owners": "done",
        "contract": "done",
        "catalog": "done",
    }
    assert (outputs["mapping_signoff"], outputs["cutover"], outputs["in_production"]) == (
        "done",
        "done",
        "done",
    )


def test_the_sme_decides_the_open_review_of_a_gate_without_reading_its_number(ready, ba, sme):
    request_mapping_review()

    data = run_json("decide_review", *SLUG, "--as", "sme", "--gate", "mapping", "--approve")

    assert data["review"]["state"] == ReviewState.APPROVED
    error = refused("decide_review", *SLUG, "--as", "sme", "--gate", "mapping", "--approve")
    assert str(error) == "acme-360 has no open review at the mapping gate."


def test_a_review_is_named_by_number_or_gate_not_both(ready, ba, sme):
    review_id = str(request_mapping_review()["review"]["id"])

    both = refused(
        "decide_review", *SLUG, "--as", "sme", review_id, "--gate", "mapping", "--approve"
    )
    neither = refused("decide_review", *SLUG, "--as", "sme", "--approve")

    assert (str(both), both.returncode) == ("Name the review or --gate, not both.", 2)
    assert (str(neither), neither.returncode) == ("Name the review (REVIEW) or --gate.", 2)
    assert ReviewRequest.objects.get().state == ReviewState.REQUESTED
