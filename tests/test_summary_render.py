"""Render the sample month with LibreOffice (when installed) and read the PDF back."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from bot.core.document import render_summary
from bot.core.summary import Contribution, Summary, SummaryRow, summary_title
from bot.demo.sample_month import SAMPLE_ROWS, SAMPLE_TITLES

FONTCONFIG = Path(__file__).resolve().parent.parent / "templates" / "document" / "fontconfig.conf"


def _sample(draft: bool) -> Summary:
    rows = [
        SummaryRow(t, [Contribution("办公室", *SAMPLE_ROWS[n])] if n in SAMPLE_ROWS else [])
        for n, t in enumerate(SAMPLE_TITLES, 1)
    ]
    return Summary(2015, 10, "共青团广东省委员会", rows, draft=draft)


def libreoffice_pdf(docx: Path) -> Path:
    """The .docx converted to PDF beside it by LibreOffice (skips without soffice), with
    the project's font configuration."""
    soffice = shutil.which("soffice")
    if soffice is None:
        why = (
            "LibreOffice (soffice) is not installed: cannot check that the document "
            "renders (apt-get install libreoffice-writer-nogui poppler-utils fonts-noto-cjk)"
        )
        pytest.skip(reason=why)
    profile = Path("/tmp") / f"lo_{uuid.uuid4().hex}"
    env = dict(os.environ)
    if FONTCONFIG.is_file():
        env["FONTCONFIG_FILE"] = str(FONTCONFIG)
    try:
        proc = subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(docx.parent),
                str(docx),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
            check=False,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdf = docx.with_suffix(".pdf")
    assert pdf.is_file() and pdf.stat().st_size > 0, proc.stdout + proc.stderr
    return pdf


def pdf_text(pdf: Path) -> str | None:
    """The PDF's text without whitespace (None without pdftotext)."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        return None
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return "".join(text.split())


@pytest.mark.parametrize("draft", [False, True])
def test_libreoffice_converts_summary_to_pdf(tmp_path: Path, draft: bool) -> None:
    summary = _sample(draft)
    docx = tmp_path / "summary.docx"
    docx.write_bytes(render_summary(summary))
    flat = pdf_text(libreoffice_pdf(docx))
    if flat is None:
        return
    assert summary_title(summary) in flat
    assert "下一步推进计划" in flat
    assert "（未报送）" in flat
    assert ("草稿" in flat) is draft
    assert "—1—" in flat  # page number in the footer
