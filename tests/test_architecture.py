"""The design's boundaries, checked: handlers and knowledge never import a channel library."""

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHANNEL_LIBRARIES = {"telegram", "pywa", "pywa_async", "starlette", "uvicorn", "httpx"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted((REPO / "handlers").glob("*.py")) + sorted((REPO / "knowledge").glob("*.py")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_core_modules_import_no_channel_library(path):
    assert imported_roots(path) & CHANNEL_LIBRARIES == set()


def test_channel_libraries_stay_in_their_adapters():
    """telegram only in bot/telegram.py, pywa only in bot/whatsapp.py."""
    owners = {"telegram": {"telegram.py"}, "pywa": {"whatsapp.py"}, "pywa_async": {"whatsapp.py"}}
    for path in sorted((REPO / "bot").glob("*.py")):
        for lib in imported_roots(path) & set(owners):
            assert path.name in owners[lib], f"bot/{path.name} imports {lib}"


def _run(*args: str) -> subprocess.CompletedProcess:
    venv_bin = Path(sys.executable).parent
    return subprocess.run([str(venv_bin / args[0]), *args[1:]], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_import_layers_hold():
    """import-linter's contracts (pyproject.toml): bot → handlers → knowledge; storage never imports handlers."""
    p = _run("lint-imports", "--no-cache")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "0 broken" in p.stdout


def test_ruff_finds_nothing():
    """ruff with the rule set in pyproject.toml."""
    p = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]


@pytest.mark.slow
def test_wheel_ships_the_flows_and_every_package_without_setuptools_warnings(tmp_path):
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-w",
                        str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    assert "Warning" not in p.stdout + p.stderr, (p.stdout + p.stderr)[-3000:]
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in [*(REPO / "knowledge" / "flows").glob("*.toml"), *(REPO / "knowledge" / "entries").glob("*.toml"),
                 *(REPO / "bot").rglob("*.py"), *(REPO / "handlers").glob("*.py")]:  # fmt: skip
        if "__pycache__" not in path.parts:
            assert str(path.relative_to(REPO)) in names, path
