"""The multi-style model shipped in the package: loads offline, mixes styles smoothly."""

from __future__ import annotations

import pytest
import torch
from helpers.tiny import one_thread  # noqa: F401 (a fixture, used through pytestmark)

from attribkit.data import sample_image
from attribkit.style import load_shipped_model, stylize
from attribkit.style.checkpoint import read_style_metadata, shipped_model_path
from attribkit.style.losses import PerceptualLoss
from attribkit.style.train import default_layers, training_styles
from attribkit.testing import snapshot_world

pytestmark = pytest.mark.usefixtures("one_thread")


def test_shipped_model_loads_offline() -> None:
    net = load_shipped_model()
    assert net.n_styles >= 4
    assert {"starry_night", "scream"} <= set(net.style_names)
    path = shipped_model_path()
    size = path.with_suffix(".safetensors").stat().st_size
    assert size <= 10 * 2**20
    meta = read_style_metadata(path)
    assert meta["training"]["steps"] > 0 and meta["training"]["device"]
    x = sample_image("chelsea", size=36)
    world = snapshot_world(net, x)
    y = stylize(net, x, "scream")
    world.assert_unchanged()
    assert isinstance(y, torch.Tensor) and y.shape == x.shape


@pytest.mark.slow
def test_mixing_lies_between_pure_styles() -> None:
    from attribkit.models import efficientnet_lite0

    net = load_shipped_model()
    meta = read_style_metadata(shipped_model_path())
    specs = training_styles(meta)
    a, b = "starry_night", "scream"
    bb = efficientnet_lite0()
    _, s_layers = default_layers(bb, [], None)
    losses = {}
    for name in (a, b):
        losses[name] = PerceptualLoss(bb, [], s_layers)
        losses[name].set_style(specs[name].load())
    x = sample_image("chelsea", size=96)  # held out from training
    ws = [1.0, 0.5, 0.0]
    outs = torch.cat([stylize(net, x, {a: w, b: 1 - w}) for w in ws])  # type: ignore[misc]
    with torch.no_grad():
        to_a = losses[a](outs).style
        to_b = losses[b](outs).style
    # the mix is further from A than pure A, and closer to A than pure B; the same for B
    assert to_a[0] < to_a[1] < to_a[2], to_a
    assert to_b[0] > to_b[1] > to_b[2], to_b
