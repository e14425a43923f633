"""The wheel, installed (not editable), runs from any folder: texts, the document
template, the migrations and the demo's stand-in for Telegram all come with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "bot", "handlers", "storage", "templates")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")


def _run(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `huibao` command of a fresh venv with only the wheel installed in it; the
    dependencies come from this venv's site-packages (read-only, no network)."""
    try:
        import wheel  # noqa: F401  (pip needs it to build without an isolated env)
    except ImportError:
        pytest.skip(reason="the `wheel` package is not installed (pip install -e '.[dev]')")
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=IGNORE)
        else:
            shutil.copy2(path, source / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.pop("PYTHONPATH", None)
    built = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--wheel-dir",
        work / "dist",
        source,
        cwd=work,
        env=env,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel_file,) = (work / "dist").glob("huibao-*.whl")

    venv = work / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work, env=env)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=work, env=env
    ).stdout.strip()
    # The dependencies (and pip) by path only: this venv's .pth files, among them the
    # editable install's finder for the checkout, are not run.
    (Path(purelib) / "huibao-deps.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8"
    )
    done = _run(
        python, "-m", "pip", "install", "--quiet", "--no-deps", wheel_file, cwd=work, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin" / "huibao"


def test_the_wheel_installs_exactly_the_repository_packages(installed: Path) -> None:
    """The README's development section says which top-level names a deployer gets."""
    (wheel_file,) = (installed.parent.parent.parent / "dist").glob("huibao-*.whl")
    with zipfile.ZipFile(wheel_file) as archive:
        tops = {name.split("/")[0] for name in archive.namelist() if "/" in name}
    assert {t for t in tops if not t.endswith(".dist-info")} == {
        "bot",
        "handlers",
        "storage",
        "templates",
    }


def test_the_installed_wheel_runs_in_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.pop("PYTHONPATH", None)
    env["LANG"] = "zh_CN.UTF-8"
    where = _run(
        installed.parent / "python",
        "-c",
        "import bot, templates; print(bot.__file__); print(templates.__file__)",
        cwd=tmp_path,
        env=env,
    )
    assert str(ROOT) not in where.stdout and str(installed.parent.parent) in where.stdout

    shown = _run(installed, "--help", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "Usage:" in shown.stdout

    upgraded = _run(installed, "db", "upgrade", cwd=tmp_path, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == "数据库结构已是最新。"
    assert (tmp_path / "data" / "huibao.db").is_file()

    toured = _run(installed, "demo", cwd=tmp_path, env=env)
    assert toured.returncode == 0, toured.stdout + toured.stderr
    written = tmp_path / "out" / "2015年10月重点工作推进情况汇总表.docx"
    assert written.is_file(), toured.stdout
    assert "已报送 11/13 项" in toured.stdout
