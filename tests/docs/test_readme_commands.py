"""The README's first shell block is the two commands, and CI runs exactly those."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TWO = ["make demo", "make test"]


def _commands(block: str) -> list[str]:
    stripped = (ln.strip() for ln in block.splitlines())
    return [ln for ln in stripped if ln and not ln.startswith("#")]


def test_the_first_shell_block_holds_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```(?:bash|sh|shell|console)\n(.*?)^```", readme, re.M | re.S)
    assert blocks, "the README has no shell block"
    assert _commands(blocks[0]) == TWO


def test_ci_runs_the_two_commands_and_no_other_setup() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = _commands(script)
    assert [ln for ln in lines if ln in TWO] == TWO  # both, in the README's order
    assert not [ln for ln in lines if "pip install" in ln], "CI must set up only through make"
    assert "make lint" in lines


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["demo", "test", "setup", "lint"])
def test_make_targets_exist(target: str) -> None:
    # a dry run with an up-to-date stamp lists the recipe without running it
    done = subprocess.run(["make", "-n", "-C", str(ROOT), target], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ".venv/bin" in done.stdout
