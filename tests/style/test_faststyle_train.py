"""train_style(): the loss goes down, seeds repeat, checkpoints resume exactly, state kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.tiny import one_thread, style_backbone, tiny_training  # noqa: F401 (fixture)
from torch import nn

from attribkit.style import MultiStyleNet, StyleSpec, load_style_model, train_style
from attribkit.style.checkpoint import read_style_metadata
from attribkit.testing import snapshot_world

pytestmark = pytest.mark.usefixtures("one_thread")


_backbone = style_backbone


def _data() -> tuple[dict[str, torch.Tensor], list[torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    ramp = torch.linspace(0, 1, 24)
    stripes = (torch.sin(torch.arange(24) * 1.5) * 0.5 + 0.5).expand(1, 3, 24, 24).clone()
    styles = {
        "stripes": stripes,
        "red": torch.stack(
            [ramp.expand(24, 24) * 0 + 0.9, ramp.expand(24, 24) * 0.1, ramp.expand(24, 24).T * 0.2]
        )[None],
    }
    content = [torch.rand(1, 3, 40, 40, generator=g), torch.rand(1, 3, 36, 44, generator=g)]
    return styles, content


def _train(**kw: object) -> object:
    styles, content = _data()
    args = tiny_training(steps=4, batch_size=2, lr=1e-2)
    args.update(kw)
    return train_style(styles, content, **args)  # type: ignore[arg-type]


def test_smoke_loss_decreases_and_backbone_untouched() -> None:
    styles, content = _data()
    bb = _backbone()
    world = snapshot_world(bb, *styles.values(), *content)
    r = train_style(
        styles,
        content,
        backbone=bb,
        content_layers=["1"],
        style_layers=["1", "3"],
        steps=30,
        batch_size=2,
        crop=16,
        width=4,
        n_residual=1,
        lr=2e-2,
        pad=0,
        show_progress=False,
        holdout=(),
    )
    world.assert_unchanged()
    assert isinstance(r.model, MultiStyleNet) and not r.model.training
    assert r.model.style_names == ["stripes", "red"]
    losses = torch.tensor([h["loss"] for h in r.history])
    assert losses[-5:].mean() < 0.7 * losses[:5].mean()


def test_deterministic_with_seed() -> None:
    a, b, c = _train(seed=3), _train(seed=3), _train(seed=4)
    pa, pb, pc = (torch.cat([p.flatten() for p in r.model.parameters()]) for r in (a, b, c))  # type: ignore[attr-defined]
    assert torch.equal(pa, pb)
    assert not torch.equal(pa, pc)


def test_checkpoint_resume_is_exact(tmp_path: Path) -> None:
    straight = _train(steps=4, out_dir=tmp_path / "a", checkpoint_every=2)
    _train(steps=2, out_dir=tmp_path / "b", checkpoint_every=2)
    meta = read_style_metadata(tmp_path / "b" / "checkpoint")
    assert meta["state"]["step"] == 2
    resumed = _train(steps=4, out_dir=tmp_path / "b", checkpoint_every=2)
    assert resumed.steps == 4 and len(resumed.history) == 4  # type: ignore[attr-defined]
    for p, q in zip(straight.model.parameters(), resumed.model.parameters()):  # type: ignore[attr-defined]
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    saved = load_style_model(tmp_path / "b" / "model")
    assert read_style_metadata(tmp_path / "b" / "model")["training"]["steps"] == 4
    for p, q in zip(saved.parameters(), resumed.model.parameters()):  # type: ignore[attr-defined]
        assert torch.equal(p, q)


def test_samples_and_style_spec(tmp_path: Path) -> None:
    styles, content = _data()
    spec = StyleSpec(styles["stripes"], size=20, crop=(0.0, 0.0, 0.5, 1.0))
    assert spec.load().shape == (1, 3, 20, 40)
    r = train_style(
        [spec, StyleSpec(styles["red"], size=None)],
        content,
        **tiny_training(style_layers=["3"], batch_size=2, out_dir=tmp_path, sample_every=2),  # type: ignore[arg-type]
    )
    assert (tmp_path / "samples" / "step000002.png").is_file()
    assert r.model.style_names == ["style0", "style1"]  # type: ignore[attr-defined]


def test_callback_exception_leaves_backbone(tmp_path: Path) -> None:
    bb = _backbone()
    world = snapshot_world(bb)

    def boom(step: int, _rec: dict[str, float]) -> None:
        if step == 2:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _train(backbone=bb, callbacks=[boom])
    world.assert_unchanged()


def test_content_folder(tmp_path: Path) -> None:
    from attribkit.io import save_image

    for i in range(2):
        save_image(torch.rand(3, 30, 34), tmp_path / f"img{i}.png")
    styles, _ = _data()
    args = tiny_training(style_layers=["3"], batch_size=2)
    del args["holdout"], args["pad"]
    r = train_style(styles, tmp_path, **args)  # type: ignore[arg-type]
    assert r.steps == 2


def test_exception(tmp_path: Path) -> None:
    styles, content = _data()
    with pytest.raises(ValueError, match="multiple of 4"):
        _train(crop=18)
    with pytest.raises(ValueError, match="steps"):
        _train(steps=0)
    with pytest.raises(ValueError, match="at least one style"):
        train_style({}, content, backbone=_backbone())
    with pytest.raises(ValueError, match="pass content_layers"):
        train_style(styles, content, backbone=_backbone(), show_progress=False)
    with pytest.raises(ValueError, match="no images"):
        train_style(
            styles, tmp_path, backbone=_backbone(), content_layers=["1"], style_layers=["3"]
        )
    _train(steps=2, out_dir=tmp_path / "r")
    with pytest.raises(ValueError, match="is for styles"):
        train_style(
            {"other": styles["red"]},
            content,
            **tiny_training(style_layers=["3"], out_dir=tmp_path / "r"),  # type: ignore[arg-type]
        )


def test_vgg_named_backbone_uses_johnson_layers() -> None:
    from collections import OrderedDict

    from attribkit.style.train import VGG_CONTENT_LAYERS, VGG_STYLE_LAYERS, default_layers

    # a tiny network with VGG's layer names (real VGG16 is too slow to build in a unit test)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    c = 3
    for name in ("1_2", "2_2", "3_3", "4_3"):
        layers[f"conv{name}"] = nn.Conv2d(c, 4, 3, padding=1)
        layers[f"relu{name}"] = nn.ReLU()
        c = 4
    bb = nn.Sequential(layers)
    assert default_layers(bb, None, None) == (list(VGG_CONTENT_LAYERS), list(VGG_STYLE_LAYERS))
    styles, content = _data()
    seen: list[float] = []
    args = tiny_training(backbone=bb, steps=1, pad=4)
    del args["content_layers"], args["style_layers"]  # the VGG names give the defaults
    r = train_style(
        styles,
        content,
        callbacks=[lambda _s, rec: seen.append(rec["style"])],
        **args,  # type: ignore[arg-type]
    )
    assert r.steps == 1 and seen and seen[0] > 0
