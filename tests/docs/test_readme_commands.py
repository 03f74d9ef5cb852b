"""The README's first shell block is the two commands, and CI runs exactly those."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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
    # a dry run lists the recipe (the set-up check included) without running it
    done = subprocess.run(["make", "-n", "-C", str(ROOT), target], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ".venv/bin" in done.stdout


def _env_check(folder: Path, *pins: str) -> subprocess.CompletedProcess[str]:
    """Run the Makefile's environment check (its ENV_CHECK) in ``folder``, as make does."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    code = re.search(r"^define ENV_CHECK\n(.*?)^endef$", makefile, re.M | re.S)
    assert code is not None, "the Makefile has no ENV_CHECK"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code.group(1), *pins], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=60)


def _project(folder: Path, dev: str, checkout: bool = True) -> Path:
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "x"\ndependencies = ["pytest>=1"]\n'
        f"[project.optional-dependencies]\ndev = [{dev}]\n",
        encoding="utf-8",
    )
    if checkout:  # this folder stands for the checkout the tests import attribkit from
        (folder / "attribkit").symlink_to(ROOT / "attribkit")
    return folder


def test_env_check_passes_a_ready_environment(tmp_path: Path) -> None:
    done = _env_check(_project(tmp_path, '"pytest"'))
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize(
    ("dev", "pins", "checkout", "reason"),
    [
        ('"no-such-package-for-attribkit"', (), True, "no-such-package-for-attribkit is not "
         "installed"),
        ('"pytest<1"', (), True, "is installed, pytest<1 is needed"),
        ('"pytest"', ("torch==0.0.1",), True, "is installed, torch==0.0.1 is needed"),
        ('"pytest"', (), False, "attribkit is not imported from this checkout"),
        ("5", (), True, "the check failed"),
    ],
    ids=["missing", "too new", "torch pin", "another checkout", "bad pyproject"],
)
def test_env_check_names_what_is_missing(
    tmp_path: Path, dev: str, pins: tuple[str, ...], checkout: bool, reason: str
) -> None:
    """What makes `make demo` / `make test` install: one line saying what is missing."""
    done = _env_check(_project(tmp_path, dev, checkout), *pins)
    assert done.returncode == 1
    assert reason in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
