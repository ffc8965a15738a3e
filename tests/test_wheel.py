"""The wheel, built and installed as a user would: into a fresh venv, run from another folder.

Needs the package index (the build backend and the dependencies are installed from it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PACKAGED = ("querylang/grammar/query.lark", "querylang/schema.json", "querylang/py.typed")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    elsewhere: Path  # a folder that is not the checkout, to run from

    def bin(self, name: str) -> Path:
        scripts = self.venv / ("Scripts" if os.name == "nt" else "bin")
        return scripts / (name + (".exe" if os.name == "nt" else ""))

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        # No PYTHONPATH: only what the wheel installed may be imported.
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
        return subprocess.run(
            [str(self.bin(args[0])), *args[1:]],
            input=stdin,
            cwd=self.elsewhere,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=False,
        )


def _check(command: list[str], cwd: Path, timeout: float) -> None:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    dist = tmp_path_factory.mktemp("dist")
    _check(
        [sys.executable, "-m", "build", "--wheel", "--quiet", "--outdir", str(dist), str(REPO)],
        REPO,
        timeout=600,
    )
    [wheel] = dist.glob("querylang-*.whl")
    venv = tmp_path_factory.mktemp("venv")
    _check([sys.executable, "-m", "venv", str(venv)], dist, timeout=300)
    installed = Installed(wheel, venv, tmp_path_factory.mktemp("elsewhere"))
    _check(
        [str(installed.bin("python")), "-m", "pip", "install", "--quiet", str(wheel)],
        installed.elsewhere,
        timeout=600,
    )
    return installed


def test_wheel_carries_the_data_files(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    assert set(PACKAGED) <= names
    # Only the package (and its .dist-info) at the top level: no stray grammar/ or tests/.
    assert {name.split("/")[0] for name in names} == {
        "querylang",
        installed.wheel.name.split("-py")[0] + ".dist-info",
    }


def test_installed_files_are_the_repository_files(installed: Installed) -> None:
    result = installed.run("python", "-c", "import querylang; print(querylang.__file__)")
    assert result.returncode == 0, result.stderr
    package = Path(result.stdout.strip()).parent
    assert installed.venv.resolve() in package.resolve().parents  # not this checkout
    # grammar/ is the one source of the grammar: the wheel copies it at build time.
    assert (package / "grammar" / "query.lark").read_bytes() == (
        REPO / "grammar" / "query.lark"
    ).read_bytes()
    assert (package / "schema.json").read_bytes() == (
        REPO / "querylang" / "schema.json"
    ).read_bytes()


def test_installed_metadata(installed: Installed) -> None:
    code = (
        "import importlib.metadata as m, json; d = m.distribution('querylang');"
        "print(json.dumps([d.version, [e.value for e in d.entry_points]]))"
    )
    result = installed.run("python", "-c", code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["0.1.0", ["querylang.cli:main"]]


def test_installed_command_compiles(installed: Installed) -> None:
    result = installed.run(
        "querylang",
        "compile",
        "--now",
        "2024-03-01T12:00:00Z",
        "--tz",
        "Europe/Paris",
        "direction:inbound duration:5s..60s created:yesterday from:+14155550100",
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "after": "2024-02-28T23:00:00Z",
        "before": "2024-02-29T23:00:00Z",
        "from": "+14155550100",
        "direction": "INBOUND",
        "min_duration": 5000,
        "max_duration": 60000,
    }


def test_installed_command_formats(installed: Installed) -> None:
    result = installed.run("querylang", "format", "-", stdin="dir:IN  AND mode:ai\n")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "direction:inbound mode:ai\n",
        "",
    )


def test_installed_command_reports_a_bad_query(installed: Installed) -> None:
    result = installed.run("querylang", "compile", "--errors", "json", "dirction:in")
    assert (result.returncode, result.stdout) == (1, "")
    [diagnostic] = json.loads(result.stderr)["diagnostics"]
    assert (diagnostic["code"], diagnostic["start"], diagnostic["end"]) == ("unknown_field", 0, 8)


def test_installed_command_help(installed: Installed) -> None:
    result = installed.run("querylang", "--help")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("usage: querylang")
