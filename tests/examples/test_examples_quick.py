"""Every script in examples/ runs in its --quick form and writes pictures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted(
    p for p in (Path(__file__).resolve().parents[2] / "examples").glob("*.py")
    if not p.name.startswith("_")
)


def test_there_are_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_quick(script: Path, tmp_path: Path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    pictures = [p for p in tmp_path.rglob("*") if p.suffix in {".png", ".gif", ".jpg"}]
    assert pictures, f"{script.name} wrote no picture"
    assert all(p.stat().st_size > 0 for p in pictures)
