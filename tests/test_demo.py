"""`huibao demo`: the offline tour works on a fresh checkout and says clearly when it cannot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document

ROOT = Path(__file__).resolve().parent.parent
HUIBAO = Path(sys.executable).parent / "huibao"


@pytest.mark.skipif(not HUIBAO.is_file(), reason="the huibao command is not installed")
def test_demo_runs_from_the_repository_root(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    out = tmp_path / "out"
    done = subprocess.run(
        [str(HUIBAO), "demo", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = out / "2015年10月重点工作推进情况汇总表.docx"
    assert f"wrote {written} (13 rows)" in done.stdout
    assert (
        "已报送 11/13 项；未报送：团的制度建设（办公室）、基层服务型团组织建设（农村青年工作部）"
        in done.stdout
    )
    assert "sendChatAction upload_document" in done.stdout
    assert done.stderr == ""  # logging stays quiet

    table = Document(str(written)).tables[0]
    assert len(table.rows) - 1 == 13
    assert table.rows[2].cells[2].paragraphs[0].text.startswith("1.在全省下发")
    assert table.rows[1].cells[1].text.endswith("（办公室未报送）")
    assert table.rows[6].cells[2].paragraphs[1].text.startswith("2.学校部")  # merged, renumbered
