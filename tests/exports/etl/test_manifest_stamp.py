"""The ETL manifest carries the spec version and content hash a sign-off approved — the same
snapshot and hash as the sign-off, the workbook cover and the test runs — and stops claiming them
as soon as the mapping changes."""

from __future__ import annotations

import pytest

from exports.etl.plan import build_plan
from exports.services.etl import etl_generate
from mappings.models import EntityMapping
from mappings.services import mapping as mapping_services
from mappings.snapshot import content_hash, spec_snapshot
from signoff import services as signoff_services
from signoff.choices import Gate
from workbench import services as workbench_services
from workbench.choices import SignoffGate

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(mapped, lead, ba, sme):
    """The whole mapping submitted for the mapping sign-off, the SME its named owner."""
    workbench_services.signoff_owner_set(
        engagement=mapped, gate=SignoffGate.MAPPING, username=sme.username, acting_user=lead
    )
    return signoff_services.do_submit_for_review(
        engagement=mapped, gate=Gate.MAPPING, acting_user=ba
    )


def test_the_manifest_claims_the_approved_version_until_a_rule_changes(
    submitted, mapped, ba, sme, etl, tmp_path
):
    # Given version 1 approved by the SME
    decision = signoff_services.do_decide(review=submitted, verdict="approve", acting_user=sme)
    version = submitted.version

    # When the ETL is generated
    manifest = etl_generate(engagement=mapped, dialect="postgres", out=tmp_path, acting_user=etl)

    # Then it names that version and the very hash the sign-off approved
    assert manifest["spec_version"] == version.number == 1
    assert manifest["content_hash"] == version.content_hash == decision.content_hash
    assert manifest["approved"] is True
    assert build_plan(engagement=mapped).content_hash == decision.content_hash  # test runs too
    # and so does every SQL file's header; the job design has no draft banner
    stamp = f"Generated from spec version 1, content hash {decision.content_hash}, approved."
    assert all(stamp in p.read_text() for p in (tmp_path / "sql").glob("*.sql"))
    assert "Draft" not in (tmp_path / "docs" / "etl_job_design.md").read_text()

    # When the BA changes a rule afterwards
    email = EntityMapping.objects.get(engagement=mapped, entity_name="customer").attributes.get(
        attribute_name="email"
    )
    mapping_services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "LOWER(c.email)"}, acting_user=ba
    )
    manifest = etl_generate(
        engagement=mapped, dialect="postgres", out=tmp_path / "after", acting_user=etl
    )

    # Then the manifest no longer claims the version: a draft with the working mapping's hash
    assert manifest["spec_version"] is None
    assert manifest["approved"] is False
    assert manifest["content_hash"] != decision.content_hash
    assert manifest["content_hash"] == content_hash(spec_snapshot(engagement=mapped))
    # and the files and the job design say so
    draft = f"content hash {manifest['content_hash']}, NOT APPROVED (draft)."
    assert all(draft in p.read_text() for p in (tmp_path / "after" / "sql").glob("*.sql"))
    design = (tmp_path / "after" / "docs" / "etl_job_design.md").read_text()
    assert "**Draft — not approved.**" in design


def test_a_submitted_version_not_yet_approved_is_named_but_not_approved(
    submitted, mapped, etl, tmp_path
):
    manifest = etl_generate(engagement=mapped, dialect="postgres", out=tmp_path, acting_user=etl)

    assert manifest["spec_version"] == 1
    assert manifest["content_hash"] == submitted.version.content_hash
    assert manifest["approved"] is False
