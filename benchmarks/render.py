"""See a compiled summary table as a reader does: .docx → PDF (LibreOffice) → page 1 as PNG.

    .venv/bin/python benchmarks/render.py office [--month 2026-10|2026-11]
    .venv/bin/python benchmarks/render.py demo
    .venv/bin/python benchmarks/render.py rollup [--range 2026-Q4]
    .venv/bin/python benchmarks/render.py docx FILE.docx

`office` runs the two months of tests/test_office_month.py (云溪区人力资源和社会保障局)
through the real bot and the Bot API test double on a fresh SQLite database under the
output folder, and renders the month's document as the coordinator's /compile delivered
it (October: right after the month closed). `rollup` runs the same two months and renders
their roll-up (default 2026-Q4: October closed, November open, December without a period),
printing how long render_rollup took. The database stays, so `huibao compile` can
be run on it again (DATABASE_URL=sqlite:///…/office.db). `demo` renders what
`huibao demo` compiles; `docx` renders any .docx.

Prints the PNG's path (and the PDF's). Needs `soffice` and `pdftoppm`; without them it
says which is missing and how to install it. Fonts: templates/document/fontconfig.conf
maps the official-document fonts (仿宋_GB2312, 方正小标宋简体, 黑体) to installed CJK faces.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from tests.test_office_month import Observed

FONTCONFIG = ROOT / "templates" / "document" / "fontconfig.conf"
TOOLS = {  # command → the Debian package that has it
    "soffice": "libreoffice-writer-nogui",
    "pdftoppm": "poppler-utils",
}


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def has_chinese_font() -> bool:
    """Whether fontconfig knows a face for Chinese (without one, text renders as boxes)."""
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    return bool(found.stdout.strip())


def to_png(docx: Path, out: Path) -> tuple[Path, Path]:
    """PDF of the document and PNG of its first page (60 dpi), both in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTCONFIG)}
    # Each run its own LibreOffice profile: parallel runs would otherwise share one and fail.
    with tempfile.TemporaryDirectory(prefix=f"lo_{os.getpid()}_") as profile:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out),
                str(docx),
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    pdf = out / f"{docx.stem}.pdf"
    if not pdf.exists():
        raise SystemExit(f"LibreOffice wrote no PDF for {docx}")
    prefix = out / f"{docx.stem}-page1"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "60",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(prefix),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return pdf, prefix.with_suffix(".png")


def office_document(month: str, out: Path) -> Path:
    """The office scenario's document for `month`, as the coordinator received it."""
    from tests.test_office_month import NOVEMBER, OCTOBER

    if month not in (OCTOBER, NOVEMBER):
        raise SystemExit(f"the office scenario has {OCTOBER} and {NOVEMBER}, not {month}")
    _, observed = office_database(out)
    document = observed.october if month == OCTOBER else observed.november
    assert document is not None
    path = out / document.filename
    path.write_bytes(document.content)
    print(f"caption: {document.caption}")
    return path


def office_database(out: Path) -> tuple[Path, Observed]:
    """The office scenario's two months, reported through the double, in `out`/office.db,
    and what the bot answered."""
    from storage.db import make_engine, upgrade
    from tests.test_office_month import run_two_months

    out.mkdir(parents=True, exist_ok=True)
    database = out / "office.db"
    database.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    try:
        observed = asyncio.run(run_two_months(engine))
    finally:
        engine.dispose()
    print(f"database: {database}")
    return database, observed


def rollup_document(wanted: str, out: Path) -> Path:
    """The roll-up of the office scenario's months in the range `wanted`."""
    from bot.core.periods import parse_range
    from bot.core.rollup import rollup_filename
    from bot.core.rollup_document import render_rollup
    from storage.db import make_engine, session_scope
    from storage.rollup import build_rollup

    engine = make_engine(f"sqlite:///{office_database(out)[0]}")
    try:
        with session_scope(engine) as session:
            rollup = build_rollup(session, parse_range(wanted))
    finally:
        engine.dispose()
    if rollup is None:
        raise SystemExit(f"the office scenario has no period in {wanted}")
    timings = []
    for _ in range(3):  # the first includes the template check and Jinja compile
        start = time.perf_counter()
        content = render_rollup(rollup)
        timings.append(time.perf_counter() - start)
    print(f"render_rollup: cold {timings[0]:.3f} s, warm {min(timings[1:]):.3f} s")
    path = out / rollup_filename(rollup)
    path.write_bytes(content)
    return path


def demo_document(out: Path) -> Path:
    """What `huibao demo` compiles."""
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--out", str(out)], check=True, cwd=ROOT
    )
    documents = sorted(out.glob("*.docx"), key=lambda p: p.stat().st_mtime)
    if not documents:
        raise SystemExit(f"huibao demo wrote no .docx under {out}")
    return documents[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "render", help="output folder")
    sources = parser.add_subparsers(dest="source", required=True)
    office = sources.add_parser("office", help="the two months of tests/test_office_month.py")
    office.add_argument("--month", default="2026-10")
    sources.add_parser("demo", help="what `huibao demo` compiles")
    rollup = sources.add_parser("rollup", help="the office scenario's roll-up")
    rollup.add_argument("--range", default="2026-Q4")
    given = sources.add_parser("docx", help="an existing .docx")
    given.add_argument("file", type=Path)
    args = parser.parse_args()

    missing = missing_tools()
    if missing:
        packages = " ".join(TOOLS[tool] for tool in missing)
        print(
            f"missing: {', '.join(missing)}; install with "
            f"apt-get install -y --no-install-recommends {packages} fonts-noto-cjk",
            file=sys.stderr,
        )
        raise SystemExit(2)
    if not has_chinese_font():
        print(
            "warning: no Chinese font installed (fonts-noto-cjk); the text will show as boxes",
            file=sys.stderr,
        )

    out: Path = args.out.resolve()
    if args.source == "office":
        docx = office_document(args.month, out)
    elif args.source == "demo":
        docx = demo_document(out)
    elif args.source == "rollup":
        docx = rollup_document(args.range, out)
    else:
        docx = args.file.resolve()
        if not docx.is_file():
            raise SystemExit(f"no such file: {docx}")
    start = time.perf_counter()
    pdf, png = to_png(docx, out)
    print(f"LibreOffice to PDF and page 1 to PNG: {time.perf_counter() - start:.1f} s")
    print(f"pdf: {pdf}")
    print(png)


if __name__ == "__main__":
    main()
