"""The deployment files (deploy/, Dockerfile, compose.yaml), checked offline: the systemd
unit with `systemd-analyze verify` where the host has it, the compose file parsed, and every
setting they name a real one. Building the image needs a container runtime; none here."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "huibao.service"
NGINX = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
INSTALLED = "/opt/huibao/venv/bin/huibao"  # where the unit expects the command

# Environment names the files use that are not huibao settings, and whose they are.
NOT_SETTINGS = {
    "POSTGRES_USER": "the postgres image",
    "POSTGRES_DB": "the postgres image",
    "POSTGRES_PASSWORD": "the postgres image, and compose's ${…} in DATABASE_URL",
    "PYTHONDONTWRITEBYTECODE": "Python",
    "PYTHONUNBUFFERED": "Python",
    "PIP_NO_CACHE_DIR": "pip",
    "PIP_DISABLE_PIP_VERSION_CHECK": "pip",
    "HTTPS_PROXY": "aiohttp (README: Polling or webhook)",
    "NO_PROXY": "aiohttp",
    "AF_INET": "systemd's RestrictAddressFamilies=",
    "AF_INET6": "systemd's RestrictAddressFamilies=",
    "AF_UNIX": "systemd's RestrictAddressFamilies=",
    "AF_NETLINK": "systemd's RestrictAddressFamilies=",
}
ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b")


def _env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are CamelCase
    parser.read(UNIT, encoding="utf-8")
    return parser


def _load_yaml(path: Path) -> Any:
    """PyYAML in this interpreter, else in the host's python3; huibao itself needs no YAML."""
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    script = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"
    for python in {shutil.which("python3"), "/usr/bin/python3"} - {None, sys.executable}:
        assert python is not None
        if not Path(python).exists():
            continue
        done = subprocess.run(
            [python, "-c", script, str(path)], capture_output=True, text=True, timeout=60
        )
        if done.returncode == 0:
            return json.loads(done.stdout)
        if "No module named 'yaml'" not in done.stderr:
            raise AssertionError(done.stderr)
    pytest.skip(reason="no PyYAML here or in the host's python3 to parse compose.yaml")


def test_env_example_names_every_setting() -> None:
    """The yardstick below: .env.example documents exactly the settings there are."""
    assert _env_example_names() == {name.upper() for name in Settings.model_fields}


def _readme_deployment() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Deployment\n", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize(
    "name, text",
    [(path.name, path.read_text(encoding="utf-8")) for path in (UNIT, NGINX, DOCKERFILE, COMPOSE)]
    + [("README Deployment", _readme_deployment())],
)
def test_files_name_only_real_settings(name: str, text: str) -> None:
    """A misspelt setting in a deployment file would be silently ignored by the bot."""
    unknown = set(ENV_NAME.findall(text)) - _env_example_names() - NOT_SETTINGS.keys()
    assert not unknown, f"{name} names {sorted(unknown)}: not in .env.example"


def test_unit_runs_the_bot_as_its_own_user_from_the_data_directory() -> None:
    service = _unit()["Service"]
    assert service["User"] == "huibao"
    assert service["EnvironmentFile"] == "/etc/huibao/huibao.env"
    assert service["ExecStartPre"] == f"{INSTALLED} db upgrade"
    assert service["ExecStart"] == f"{INSTALLED} run"
    assert service["Restart"] == "on-failure"
    assert service["RestartSec"]
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    # ./data/ (the default SQLite file) and ./out/ are under the working directory,
    # which must stay writable under ProtectSystem=strict.
    assert service["WorkingDirectory"] in service["ReadWritePaths"].split()
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """Syntax, known keys and values. verify also wants the commands to exist: the copy it
    reads runs this venv's huibao instead of /opt/huibao's. It does not check that the user,
    the environment file or the directories exist (they are made at install time)."""
    here = Path(sys.executable).parent / "huibao"
    command = str(here) if here.exists() else str(shutil.which("true"))
    unit = tmp_path / "huibao.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALLED, command), "utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=120
    )
    # An unknown key is only a warning (exit 0), so any line about this unit fails too.
    about_unit = [
        line for line in (done.stdout + done.stderr).splitlines() if "huibao.service" in line
    ]
    assert done.returncode == 0 and not about_unit, done.stdout + done.stderr


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    joined: list[str] = []
    pending = ""
    for line in lines:
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            joined.append(pending.strip())
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def test_dockerfile_runs_unprivileged_with_a_health_check() -> None:
    steps = _dockerfile_instructions()
    users = [args for name, args in steps if name == "USER"]
    assert users and users[-1] not in ("root", "0"), "the bot must not run as root"
    (health,) = [args for name, args in steps if name == "HEALTHCHECK"]
    assert health.endswith('CMD ["huibao", "check"]')
    (cmd,) = [args for name, args in steps if name == "CMD"]
    assert "huibao db upgrade" in cmd and "exec huibao run" in cmd
    assert any("-c constraints.txt" in args for name, args in steps if name == "RUN")
    assert ("VOLUME", '["/data"]') in steps
    assert any("DATABASE_URL=sqlite:////data/" in args for name, args in steps if name == "ENV")


def test_dockerignore_keeps_secrets_and_state_out_of_the_image() -> None:
    """Allow-list: everything is ignored but what the wheel is built from, so a .env with
    the token, ./data/ or .venv never reaches the build context."""
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in lines
    copied = {
        source
        for name, args in _dockerfile_instructions()
        if name == "COPY"
        for source in args.split()[:-1]
    }
    allowed = {line.removeprefix("!").rstrip("/") for line in lines if line.startswith("!")}
    assert copied == allowed


def test_image_gets_every_package_the_wheel_installs() -> None:
    """A new top-level package in pyproject.toml must be copied into the image too."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {name.split(".")[0] for name in pyproject["tool"]["setuptools"]["packages"]}
    copied = {
        source
        for name, args in _dockerfile_instructions()
        if name == "COPY"
        for source in args.split()[:-1]
    }
    assert packages | {"pyproject.toml", "constraints.txt"} == copied


def test_compose_file_text_has_the_health_check() -> None:
    """Checked on the text too, for hosts where no YAML parser is at hand."""
    assert 'test: ["CMD", "huibao", "check"]' in COMPOSE.read_text(encoding="utf-8")


def test_compose_runs_huibao_on_a_healthy_postgres() -> None:
    compose = _load_yaml(COMPOSE)
    postgres, huibao = compose["services"]["postgres"], compose["services"]["huibao"]
    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert huibao["healthcheck"]["test"] == ["CMD", "huibao", "check"]
    assert huibao["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert huibao["env_file"] == ".env"
    assert huibao["environment"]["DATABASE_URL"].startswith("postgresql://huibao:")
    assert "@postgres:5432/huibao" in huibao["environment"]["DATABASE_URL"]
    # The webhook port reaches the host's loopback only (the reverse proxy), not the world.
    assert all(port.startswith("127.0.0.1:") for port in huibao["ports"])
    named = {
        volume.split(":")[0] for service in (postgres, huibao) for volume in service["volumes"]
    }
    assert named == set(compose["volumes"])
    settings = {name.upper() for name in Settings.model_fields}
    assert set(huibao["environment"]) <= settings


def test_nginx_passes_the_secret_to_where_the_bot_listens() -> None:
    text = NGINX.read_text(encoding="utf-8")
    defaults = Settings.model_fields
    upstream = f"proxy_pass http://{defaults['webhook_listen'].default}:"
    assert f"{upstream}{defaults['webhook_port'].default};" in text
    assert "X-Telegram-Bot-Api-Secret-Token $http_x_telegram_bot_api_secret_token;" in text
    assert re.search(r"listen 443 ssl;", text)
    assert "location = /hook {" in text  # the path of the README's WEBHOOK_URL example
