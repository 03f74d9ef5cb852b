"""Run a training script under ``torchrun --nproc_per_node 2`` (gloo, CPU, loopback) and read
back what each rank wrote (``rank{R}.safetensors`` and ``rank{R}.json`` in the output folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

__all__ = ["run_two_ranks"]


def run_two_ranks(
    script: str, out: Path, timeout: float = 240
) -> tuple[list[dict[str, torch.Tensor]], list[dict[str, Any]]]:
    """Run ``script`` (source text, given ``out`` as its argument) in two processes; check that
    both ranks end with identical tensors, and return each rank's tensors and JSON."""
    path = out / "train_ddp.py"
    path.write_text(script)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    env.pop("WORLD_SIZE", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1"]
    cmd += ["--nproc_per_node", "2", str(path), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    tensors = [load_file(str(out / f"rank{r}.safetensors")) for r in (0, 1)]
    records = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert tensors[0].keys() == tensors[1].keys()
    for k in tensors[0]:
        assert torch.equal(tensors[0][k], tensors[1][k]), f"tensor {k} differs between the ranks"
    return tensors, records
