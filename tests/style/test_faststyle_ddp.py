"""train_style under ``torchrun --nproc_per_node 2`` (gloo, CPU, loopback): DDP with no code change.

The test writes a tiny training script, runs it with torchrun in two CPU processes, and checks
that both ranks end with identical parameters and that the (all-reduced) loss went down.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch
from helpers.ddp import run_two_ranks

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import torch
    from torch import nn
    from safetensors.torch import save_file
    from attribkit.style import train_style

    torch.set_num_threads(1)
    out = sys.argv[1]
    rank = int(os.environ["RANK"])
    with torch.random.fork_rng():
        torch.manual_seed(0)
        bb = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(),
                           nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.ReLU())
    g = torch.Generator().manual_seed(0)
    stripes = (torch.sin(torch.arange(24) * 1.5) * 0.5 + 0.5).expand(1, 3, 24, 24).clone()
    styles = {"stripes": stripes, "noise": torch.rand(1, 3, 24, 24, generator=g)}
    content = [torch.rand(1, 3, 32, 32, generator=g) for _ in range(4)]
    r = train_style(styles, content, backbone=bb, content_layers=["1"], style_layers=["1", "3"],
                    steps=12, batch_size=2, crop=16, width=4, n_residual=1, lr=2e-2, pad=0,
                    show_progress=False, holdout=(), out_dir=os.path.join(out, "run"),
                    checkpoint_every=6)
    import torch.distributed as dist
    assert not dist.is_initialized(), "train_style must tear down the group it created"
    save_file({k: v.contiguous() for k, v in r.model.state_dict().items()},
              os.path.join(out, f"rank{rank}.safetensors"))
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump({"history": r.history, "world": int(os.environ["WORLD_SIZE"])}, f)
    """
)


@pytest.mark.slow
def test_ddp_two_processes_gloo(tmp_path: Path) -> None:
    (p0, p1), (h0, h1) = run_two_ranks(SCRIPT, tmp_path)
    assert len(p0) > 10
    assert h0["world"] == 2
    losses = [h["loss"] for h in h0["history"]]
    assert len(losses) == 12
    assert losses == [h["loss"] for h in h1["history"]]  # all-reduced: the same on both ranks
    assert sum(losses[-3:]) < 0.8 * sum(losses[:3]), losses

    # rank 0 wrote the checkpoint, with both ranks' generator states, and the final model
    from attribkit.style import load_style_model

    model, extra, meta = load_style_model(tmp_path / "run" / "checkpoint", return_extra=True)
    assert meta["training"]["world_size"] == 2 and meta["state"]["step"] == 12
    assert {"gen.0", "gen.1"} <= set(extra)
    for k, v in model.state_dict().items():
        assert torch.equal(v, p0[k])
