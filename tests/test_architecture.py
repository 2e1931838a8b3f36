"""The design's boundaries, checked: handlers and knowledge never import a channel library."""

import ast
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
