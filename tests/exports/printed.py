"""Workbooks as LibreOffice prints them: a headless conversion to PDF, and the PDF's text lines with
their positions on the page (pdftotext -bbox-layout), to look at the printed geometry."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import missing_service

XHTML = "{http://www.w3.org/1999/xhtml}"


def require_libreoffice() -> None:
    if not shutil.which("libreoffice") or not shutil.which("pdftotext"):
        missing_service(
            "LibreOffice and pdftotext are not installed "
            "(apt-get install libreoffice-calc-nogui poppler-utils)"
        )


def to_pdf(workbook: Path) -> Path:
    """The workbook printed to PDF by LibreOffice, beside it."""
    converted = subprocess.run(
        ["libreoffice", "--headless", "--norestore", "--convert-to", "pdf", "--outdir",
         str(workbook.parent), str(workbook)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(workbook.parent)},  # a private profile: no lock with others
    )  # fmt: skip
    assert converted.returncode == 0, converted.stderr
    pdf = workbook.with_suffix(".pdf")
    assert pdf.exists(), converted.stdout + converted.stderr
    return pdf


@dataclass(frozen=True)
class Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    lines: list[Line]


def pages(pdf: Path) -> list[Page]:
    """Each page's size and text lines with their boxes (points, from the top left)."""
    xhtml = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    found = []
    for page in ET.fromstring(xhtml).iter(f"{XHTML}page"):
        lines = []
        for line in page.iter(f"{XHTML}line"):
            words = " ".join(w.text or "" for w in line.iter(f"{XHTML}word"))
            box = [float(line.get(k, 0)) for k in ("xMin", "yMin", "xMax", "yMax")]
            lines.append(Line(words, *box))
        found.append(Page(float(page.get("width", 0)), float(page.get("height", 0)), lines))
    return found


def page_text(page: Page) -> str:
    return "\n".join(line.text for line in page.lines)


def overlaps(page: Page) -> list[tuple[str, str]]:
    """Pairs of lines printed over each other: side by side in the same column (their spans
    across the page overlap) and more than a quarter of a line into each other vertically."""
    found = []
    for i, a in enumerate(page.lines):
        for b in page.lines[i + 1 :]:
            across = min(a.x1, b.x1) - max(a.x0, b.x0)
            down = min(a.y1, b.y1) - max(a.y0, b.y0)
            if across > 1 and down > 0.25 * min(a.y1 - a.y0, b.y1 - b.y0):
                found.append((a.text, b.text))
    return found
