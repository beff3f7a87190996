"""The workbook opens in LibreOffice without a repair prompt: a headless conversion to PDF
succeeds and the PDF holds every sheet (each sheet's footer prints its name)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from exports.spec import layout as L
from tests.conftest import missing_service

from .conftest import export_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def require_libreoffice():
    if not shutil.which("libreoffice") or not shutil.which("pdftotext"):
        missing_service(
            "LibreOffice and pdftotext are not installed "
            "(apt-get install libreoffice-calc-nogui poppler-utils)"
        )


def test_libreoffice_converts_the_workbook_to_a_pdf_with_every_sheet(
    require_libreoffice, mapped, ba, tmp_path
):
    workbook = tmp_path / "spec.xlsx"
    workbook.write_bytes(export_bytes(mapped, ba))

    converted = subprocess.run(
        ["libreoffice", "--headless", "--norestore", "--convert-to", "pdf", "--outdir",
         str(tmp_path), str(workbook)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},  # a private profile: no lock with others
    )  # fmt: skip

    assert converted.returncode == 0, converted.stderr
    pdf = tmp_path / "spec.pdf"
    assert pdf.exists(), converted.stdout + converted.stderr
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "Master Source→Interface Mapping Specification" in text
    for sheet in L.SHEETS:
        assert f"{sheet} — page" in text, sheet
    assert "LOWER(TRIM(c.email))" in text
