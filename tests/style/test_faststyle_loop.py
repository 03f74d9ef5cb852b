"""The training loop on its own: a network trained on (content, style) pairs with its own loss
plugs in through a step and a batch source; checkpoints resume bit for bit; a checkpoint's JSON
is checked, not trusted; and a failed run never leaves a half-written file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers.tiny import one_thread, tiny_training  # noqa: F401 (one_thread: a fixture)
from torch import nn

from attribkit.style import MultiStyleNet, TransformerNet, load_style_model, train_style
from attribkit.style.checkpoint import save_style_model
from attribkit.style.train_data import CropSource, ImageSet, PairedCrops
from attribkit.style.train_loop import run_training
from attribkit.testing import snapshot_world

pytestmark = pytest.mark.usefixtures("one_thread")


class MatchStyleStats:
    """A (content, style) loss: keep the content, take the style crop's channel mean and std
    (the statistics an AdaIN network matches), computed on the images themselves."""

    def loss(
        self, net: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        content, style = batch
        y = net(content)
        c = (y - content).pow(2).mean()
        s = (y.mean((2, 3)) - style.mean((2, 3))).pow(2).mean() + (
            y.std((2, 3)) - style.std((2, 3))
        ).pow(2).mean()
        return {"loss": c + 10 * s, "content": c, "style": s}


def _pairs(seed: int = 0) -> PairedCrops:
    g = torch.Generator().manual_seed(seed)
    photos = ImageSet([torch.rand(1, 3, 28, 28, generator=g) for _ in range(3)], 28)
    paintings = ImageSet([torch.rand(1, 3, 24, 32, generator=g) * 0.5 for _ in range(2)], 24)
    return PairedCrops(
        CropSource(photos, 16, 2, seed=seed), CropSource(paintings, 16, 2, seed=seed + 1)
    )


def _net() -> TransformerNet:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return TransformerNet(width=4, n_residual=1)


def _run(steps: int, out: Path | None, **kw: object) -> object:
    return run_training(
        _net(),
        MatchStyleStats(),
        _pairs(),
        steps=steps,
        lr=1e-2,
        out_dir=out,
        checkpoint_every=2,
        show_progress=False,
        **kw,  # type: ignore[arg-type]
    )


def test_content_style_pairs_train_and_resume_exactly(tmp_path: Path) -> None:
    straight = _run(6, tmp_path / "a")
    _run(3, tmp_path / "b")  # stopped after step 3 (a checkpoint at step 2, then 3 at the end)
    resumed = _run(6, tmp_path / "b")
    assert resumed.steps == 6 and [h["step"] for h in resumed.history] == [1, 2, 3, 4, 5, 6]  # type: ignore[attr-defined]
    for p, q in zip(straight.model.parameters(), resumed.model.parameters()):  # type: ignore[attr-defined]
        assert torch.equal(p, q)
    assert straight.history == resumed.history  # type: ignore[attr-defined]
    losses = [h["style"] for h in straight.history]  # type: ignore[attr-defined]
    assert losses[-1] < losses[0]
    _, extra, _ = load_style_model(tmp_path / "b" / "checkpoint", return_extra=True)
    assert {"content.gen.0", "content.pos.0", "style.gen.0", "style.pos.0"} <= set(extra)


def test_frozen_parameters_stay_and_eval_mode_after() -> None:
    net = _net()
    for p in net.down.parameters():  # a frozen "encoder"
        p.requires_grad_(False)
    before = [p.clone() for p in net.down.parameters()]
    r = run_training(net, MatchStyleStats(), _pairs(), steps=2, show_progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, net.down.parameters()))
    assert not r.model.training


def _tiny_style_run(out: Path, steps: int = 2, **kw: object) -> object:
    g = torch.Generator().manual_seed(0)
    args = tiny_training(steps=steps, out_dir=out, checkpoint_every=1)
    args.update(kw)
    return train_style(
        {"s": torch.rand(1, 3, 16, 16, generator=g)},
        [torch.rand(1, 3, 24, 24, generator=g) * (i + 1) / 3 for i in range(3)],
        **args,  # type: ignore[arg-type]
    )


def _edit_checkpoint(out: Path, **fields: object) -> None:
    j = out / "checkpoint.json"
    meta = json.loads(j.read_text())
    for k, v in fields.items():
        if k in ("step", "seconds", "epoch", "pos"):
            meta["state"][k] = v
        else:
            meta[k] = v
    j.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "fields, phrase",
    [
        ({"step": -5}, r"'step' must be an int in 0\.\.2"),
        ({"step": 7}, r"'step' must be an int in 0\.\.2"),
        ({"step": "1"}, "'step' must be an int"),
        ({"seconds": float("nan")}, "'seconds' must be a finite number"),
        ({"history": "abc"}, "'history' must be a list"),
        ({"history": [{"step": 1, "loss": "x"}]}, "finite numbers"),
        ({"state": "nope"}, "not a training checkpoint"),
        ({"styles": ["other"]}, "is for styles"),
    ],
)
def test_checkpoint_json_is_checked(tmp_path: Path, fields: dict[str, object], phrase: str) -> None:
    _tiny_style_run(tmp_path, steps=1)
    _edit_checkpoint(tmp_path, **fields)
    before = (tmp_path / "model.safetensors").read_bytes()
    with pytest.raises(ValueError, match=phrase):
        _tiny_style_run(tmp_path, steps=2)
    assert (tmp_path / "model.safetensors").read_bytes() == before  # nothing was trained


def test_checkpoint_of_another_architecture_is_refused(tmp_path: Path) -> None:
    _tiny_style_run(tmp_path, steps=1)
    with pytest.raises(ValueError, match="another architecture"):
        _tiny_style_run(tmp_path, steps=2, width=8)


def test_optimizer_state_must_fit_the_network(tmp_path: Path) -> None:
    from attribkit.style.train_state import restore_optimizer

    p = nn.Parameter(torch.zeros(3))
    opt = torch.optim.Adam([p])
    with pytest.raises(ValueError, match="names no parameter"):
        restore_optimizer(opt, [p], {"optim.4.exp_avg": torch.zeros(3)})
    with pytest.raises(ValueError, match="has shape"):
        restore_optimizer(opt, [p], {"optim.0.exp_avg": torch.zeros(5)})
    with pytest.raises(ValueError, match="NaN"):
        restore_optimizer(opt, [p], {"optim.0.exp_avg": torch.full((3,), float("nan"))})


def test_bad_input_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    bad_style = torch.rand(1, 3, 16, 16)
    bad_style[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        train_style(
            {"s": bad_style},
            [torch.rand(1, 3, 24, 24)],
            out_dir=out,
            backbone=nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()),
            content_layers=["1"],
            style_layers=["1"],
            crop=16,
            show_progress=False,
        )
    for bad in ({"style_weight": float("nan")}, {"lr": float("inf")}, {"crop": 18}, {"pad": -1}):
        with pytest.raises(ValueError):
            _tiny_style_run(out, **bad)
    assert not out.exists()


def test_a_failing_run_keeps_the_last_complete_checkpoint(tmp_path: Path) -> None:
    _tiny_style_run(tmp_path, steps=2)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    def boom(step: int, _rec: dict[str, float]) -> None:
        raise FloatingPointError("the loss became nan")

    with pytest.raises(FloatingPointError):
        _tiny_style_run(tmp_path, steps=4, callbacks=[boom])
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # no new or partial file; the checkpoint still loads
    load_style_model(tmp_path / "checkpoint")


def test_a_write_that_fails_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safetensors.torch

    net = MultiStyleNet(1, width=4, n_residual=1)
    save_style_model(net, tmp_path / "m")
    before = sorted(p.name for p in tmp_path.iterdir())

    def disk_full(tensors: object, filename: str, metadata: object = None) -> None:
        Path(filename).write_bytes(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_style_model(net, tmp_path / "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    monkeypatch.undo()
    load_style_model(tmp_path / "m")


def test_nan_weights_are_not_saved(tmp_path: Path) -> None:
    net = MultiStyleNet(1, width=4, n_residual=1)
    with torch.no_grad():
        net.out.weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="nothing was written"):
        save_style_model(net, tmp_path / "m")
    assert not any(tmp_path.iterdir())


def test_checkpoints_from_before_the_split_still_resume(tmp_path: Path) -> None:
    straight = _tiny_style_run(tmp_path / "a", steps=3)
    _tiny_style_run(tmp_path / "b", steps=2)
    # rewrite the checkpoint as the old code wrote it: no pos.RANK tensor, epoch/pos in JSON
    net, extra, meta = load_style_model(tmp_path / "b" / "checkpoint", return_extra=True)
    del extra["pos.0"]
    save_style_model(
        net,
        tmp_path / "b" / "checkpoint",
        training=meta["training"],
        extra_tensors=extra,
        extra={"state": meta["state"], "history": meta["history"]},
    )
    resumed = _tiny_style_run(tmp_path / "b", steps=3)
    for p, q in zip(straight.model.parameters(), resumed.model.parameters()):  # type: ignore[attr-defined]
        assert torch.equal(p, q)


def test_trains_through_a_batchnorm_backbone(tmp_path: Path) -> None:
    # the default backbone (EfficientNet-Lite0) has BatchNorm: the loss reads it in eval mode
    # and must leave its statistics alone without breaking the backward pass through it
    from helpers.tiny import bn_dropout_net

    bb = bn_dropout_net().eval()
    world = snapshot_world(bb)
    r = _tiny_style_run(tmp_path, steps=2, backbone=bb, style_layers=["2", "5"])
    world.assert_unchanged()
    assert r.steps == 2  # type: ignore[attr-defined]
