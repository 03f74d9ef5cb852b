"""``benchmarks/gpu.py`` runs end to end on the CPU (one row, quick sizes) and labels the run.

The whole smoke run (every row) takes minutes on 2 cores; run it by hand with::

    python benchmarks/gpu.py --device cpu --quick

These tests check the plumbing only (JSON, table, labels, refusals), never a timing.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip


def test_quick_cpu_run_writes_labelled_json_and_table(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    done = _run("--device", "cpu", "--quick", "--rows", "faststyle", "--rounds", "1",
                "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "NOT GPU figures" in done.stdout
    assert "| row | work | ours | peer | bare | ratios | target | met |" in done.stdout
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["smoke"] is True and record["device_type"] == "cpu"
    assert record["note"].startswith("CPU SMOKE RUN")
    assert {"torch", "cuda", "driver", "device", "load_average"} <= set(record)
    keys = [r["key"] for r in record["rows"]]
    assert keys == ["faststyle-transformer-32", "faststyle-transformer-64",
                    "faststyle-multistyle-32"]  # fmt: skip
    for row in record["rows"]:
        assert set(row["times"]) == {"ours", "bare"}
        assert all(math.isfinite(v) and v > 0 for v in row["times"].values())
        assert math.isfinite(row["ratios"]["ours/bare"])
        assert "half precision: CUDA only, not run" in row["notes"]


def test_unknown_row_and_bad_rounds_are_refused() -> None:
    done = _run("--device", "cpu", "--rows", "occlusion,warp")
    assert done.returncode == 2 and "unknown rows ['warp']" in done.stderr
    done = _run("--device", "cpu", "--rounds", "0")
    assert done.returncode == 2 and "--rounds must be at least 1" in done.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is there")
def test_cuda_without_cuda_says_how_to_smoke_test() -> None:
    done = _run("--rows", "saliency")
    assert done.returncode == 2 and "--device cpu --quick" in done.stderr
