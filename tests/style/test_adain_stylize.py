"""``stylize`` and ``stylize_files`` with the arbitrary-style network, and the shipped model."""

from __future__ import annotations

from pathlib import Path

import torch
from helpers.adain_nets import tiny_adain_net

from attribkit import AdaINStyleNet, MultiStyleNet, efficientnet_lite0, load_shipped_model, stylize
from attribkit.data import painting_set, photo_set
from attribkit.io import load_image
from attribkit.models.backbones import default_layers
from attribkit.style import PerceptualLoss
from attribkit.style.stylize import stylize_files
from attribkit.testing import snapshot_world


def _img(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def test_stylize_passes_the_style_image_and_leaves_the_net_as_found() -> None:
    net = tiny_adain_net().train()
    x, s = _img(2, 3, 20, 24), _img(1, 3, 16, 16, seed=1)
    world = snapshot_world(net, x, s)
    out = stylize(net, x, style=s, alpha=0.5)
    world.assert_unchanged()
    with torch.no_grad():
        ref = net.eval()(x, s, 0.5)
    torch.testing.assert_close(out, ref)


def test_stylize_blends_style_images_with_weights() -> None:
    net = tiny_adain_net()
    x, s1, s2 = _img(1, 3, 20, 24), _img(1, 3, 16, 16, seed=1), _img(1, 3, 12, 20, seed=2)
    out = stylize(net, x, [1.0, 3.0], style=[s1, s2], normalize_weights=True)
    with torch.no_grad():
        ref = net(x, [s1, s2], weights=[0.25, 0.75])
    torch.testing.assert_close(out, ref)


def test_stylize_files_takes_an_image_path_to_the_arbitrary_model(tmp_path: Path) -> None:
    painting = painting_set(split="holdout").paths[0]
    written = stylize_files(["chelsea"], [str(painting)], tmp_path, size=64)
    assert [p.name for p in written] == [f"chelsea_{painting.stem}.png"]
    y = load_image(written[0])
    assert y.shape[-2:] == (64, 96) or min(y.shape[-2:]) == 64
    # a multi-style name keeps the multi-style network
    named = stylize_files(["chelsea"], ["starry_night"], tmp_path, size=64)
    assert named[0].name == "chelsea_starry_night.png"


def test_shipped_models() -> None:
    assert isinstance(load_shipped_model(), MultiStyleNet)
    net = load_shipped_model("arbitrary")
    assert isinstance(net, AdaINStyleNet) and not net.training
    assert sum(p.numel() for p in net.parameters()) < 2_500_000  # ≤ ~10 MB of float32


def test_shipped_arbitrary_model_stylizes_a_held_out_painting() -> None:
    """The quality bar of issue 13 on one held-out photo × painting at 128 px: the output's
    Gram style distance to the painting is at most half the photo's, and its content stays
    closer to the photo than the painting is."""
    net = load_shipped_model("arbitrary")
    x = load_image(photo_set(split="holdout").paths[0], size=128)[..., :128, :128]
    s = load_image(painting_set(split="holdout").paths[1], size=128)
    backbone = efficientnet_lite0()
    loss = PerceptualLoss(
        backbone, ["_blocks.4"], default_layers(backbone, "style"), style_weight=1.0
    )
    y = stylize(net, x, style=s)
    assert isinstance(y, torch.Tensor)
    with torch.no_grad():
        loss.set_content(x)
        loss.set_style(s)
        out, photo = loss(y), loss(x)
        paint = loss(torch.nn.functional.interpolate(s, size=x.shape[-2:], mode="bilinear"))
    assert float(out.style) <= 0.5 * float(photo.style)
    assert float(out.content) < float(paint.content)
