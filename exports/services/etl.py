"""Writes of the generated ETL: the artifacts of one dialect into a directory or a zip."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from workbench import policy
from workbench.policy import Action

from ..etl import sql
from ..etl.plan import EtlPlan, build_plan
from ..etl.writer import write_artifacts


def etl_plan(*, engagement, acting_user: User) -> EtlPlan:
    policy.check(acting_user, engagement, Action.VIEW)
    return build_plan(engagement=engagement)


def etl_generate(*, engagement, dialect: str, out: Path, acting_user: User) -> dict:
    """Write the ETL artifacts for `dialect` into `out`; returns the manifest. Generating is an
    export: every member may take the artifacts."""
    policy.check(acting_user, engagement, Action.EXPORT)
    if dialect not in sql.DIALECTS:
        raise ValidationError(
            {"dialect": f"Unknown dialect '{dialect}' (one of {', '.join(sql.DIALECTS)})."}
        )
    # an entity whose SQL the dialect cannot express is refused by name, not approximated
    plan = build_plan(engagement=engagement).restrict_to(dialect)
    if not plan.loadable:
        reasons = "; ".join(f"{e.name}: {e.skipped}" for e in plan.entities)
        raise ValidationError(f"No entity can be generated yet ({reasons}).")
    return write_artifacts(plan, dialect=dialect, out=Path(out))


def etl_generate_zip(*, engagement, dialect: str, acting_user: User) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        etl_generate(engagement=engagement, dialect=dialect, out=Path(tmp), acting_user=acting_user)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(tmp).rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(tmp).as_posix())
        return buffer.getvalue()
