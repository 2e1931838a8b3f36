"""The README's two quick-start commands are the ones a newcomer runs and the one CI runs."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands():
    assert quick_start_commands() == ["./pandu", "./run-tests"]


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_cmd = quick_start_commands()[1]
    lines = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert f"exec {test_cmd}" in lines


def test_both_commands_set_up_the_venv():
    for cmd in quick_start_commands():
        script = (REPO / cmd).read_text(encoding="utf-8")
        assert "scripts/ensure-venv" in script
