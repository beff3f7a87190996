"""The workbook as LibreOffice prints it: a headless conversion to PDF succeeds without a repair
prompt, holds every sheet (each sheet's footer prints its name), and its pages read cleanly — the
Mapping sheet's wrapped rows do not print over each other, its header row is on every page, and
the Summary's headers are whole."""

from __future__ import annotations

import pytest

from exports.spec import layout as L
from tests.exports.printed import overlaps, page_text, pages, require_libreoffice, to_pdf

from .conftest import export_bytes

pytestmark = pytest.mark.django_db


def test_libreoffice_prints_every_sheet_with_rows_that_do_not_overlap(mapped, ba, tmp_path):
    require_libreoffice()
    workbook = tmp_path / "spec.xlsx"
    workbook.write_bytes(export_bytes(mapped, ba))

    laid_out = pages(to_pdf(workbook))
    printed = [page_text(page) for page in laid_out]

    text = "\n".join(printed)
    assert "Master Source→Interface Mapping Specification" in text
    for sheet in L.SHEETS:
        assert f"{sheet} — page" in text, sheet
    assert "LOWER(TRIM(c.email))" in text
    # The Mapping sheet takes pages; each starts with the header row and no two lines of a column
    # print over each other (without explicit row heights, every wrapped row did)
    mapping = [n for n, text in enumerate(printed) if f"{L.MAPPING} — page" in text]
    assert len(mapping) >= 2
    for n in mapping:
        assert laid_out[n].width > laid_out[n].height  # landscape
        assert laid_out[n].lines[0].text.startswith("Interface Entity"), n
        for label in ("Interface Attribute", "Transformation", "SME Review", "Version"):
            assert label in printed[n], (n, label)
        assert overlaps(laid_out[n]) == [], n
    # The Summary's headers wrap on a row tall enough for them: every word of each is printed
    summary = next(text for text in printed if f"{L.SUMMARY} — page" in text)
    for header in L.SUMMARY_HEADER:
        for word in header.split():
            assert word in summary, header
    assert "Unmapped" in summary and "Reviewed" in summary and "Assessed" in summary
