"""train_arbitrary under ``torchrun --nproc_per_node 2`` (gloo, CPU, loopback): DDP with no
code change — both ranks end with the same decoder, and the loss history is shared."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers.ddp import run_two_ranks

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import torch
    from collections import OrderedDict
    from torch import nn
    from safetensors.torch import save_file
    from attribkit.style import train_arbitrary

    torch.set_num_threads(1)
    out = sys.argv[1]
    rank = int(os.environ["RANK"])
    with torch.random.fork_rng():
        torch.manual_seed(0)
        bb = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(3, 6, 3, stride=2, padding=1), relu1=nn.ReLU(),
            conv2=nn.Conv2d(6, 8, 3, stride=2, padding=1), relu2=nn.ReLU()))
    g = torch.Generator().manual_seed(0)
    content = [torch.rand(1, 3, 32, 32, generator=g) for _ in range(4)]
    styles = [torch.rand(1, 3, 32, 32, generator=g) for _ in range(3)]
    r = train_arbitrary(content, styles, backbone=bb, layer="relu2",
                        style_layers=["relu1", "relu2"], steps=8, recon_steps=2, width=4,
                        crop=16, content_size=32, style_size=32, batch_size=2, lr=1e-2,
                        show_progress=False, out_dir=os.path.join(out, "run"),
                        checkpoint_every=4)
    import torch.distributed as dist
    assert not dist.is_initialized(), "train_arbitrary must tear down the group it created"
    save_file({k: v.contiguous() for k, v in r.model.state_dict().items()},
              os.path.join(out, f"rank{rank}.safetensors"))
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump({"history": r.history, "world": int(os.environ["WORLD_SIZE"])}, f)
    """
)


@pytest.mark.slow
def test_ddp_two_processes_gloo(tmp_path: Path) -> None:
    (p0, _), (h0, h1) = run_two_ranks(SCRIPT, tmp_path)
    assert len(p0) > 4
    assert h0["world"] == 2 and h0["history"] == h1["history"]
    assert [sorted(h) for h in h0["history"][:2]] == [["loss", "recon", "step"]] * 2
    assert (tmp_path / "run" / "checkpoint.json").is_file()
    assert (tmp_path / "run" / "model.safetensors").is_file()
