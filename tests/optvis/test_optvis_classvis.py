"""Class and neuron visualization: presets raise the target, multifaceted init finds the
clusters, the model is left as found, bad input is refused."""

from __future__ import annotations

import pytest
import torch
from helpers.nets import RaiseOnCall, tiny_net

from attribkit.optvis import (
    PRESETS,
    ClassVisualization,
    NeuronVisualization,
    OptimizationState,
    multifaceted_init,
)
from attribkit.testing import snapshot_world


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_raise_target_probability(preset: str) -> None:
    net = tiny_net()
    vis = ClassVisualization(net)
    start = vis.score(torch.full((1, 3, 16, 16), 0.45), [3])[0]
    res = vis.run([3, 1], preset, steps=25, size=16, show_progress=False)
    assert res.images.shape == (2, 3, 16, 16)
    assert float(res.images.min()) >= 0 and float(res.images.max()) <= 1
    assert float(res.extras["probs"][0]) > float(start[0])
    assert res.extras["targets"] == [3, 1] and res.history.shape == (25, 2)
    assert res.extras["preset"].name == preset


def test_yosinski_regularizers_act() -> None:
    """Clipping resets the smallest-norm pixels to the mean; blur smooths; decay pulls in."""
    net = tiny_net()
    p = PRESETS["yosinski"].replace(norm_pct=0.5, jitter=0, decay=0.0, blur_sigma=0.0)
    images = ClassVisualization(net).visualize(2, p, steps=3, size=12, show_progress=False)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    at_mean = ((images - mean).abs().amax(1) < 1e-6).float().mean()
    assert float(at_mean) >= 0.5 - 1 / 144
    blurred = PRESETS["yosinski"].replace(blur_sigma=2.0, blur_every=1, norm_pct=0.0, jitter=0)
    sharp = PRESETS["yosinski"].replace(norm_pct=0.0, jitter=0)
    tv = []
    for pr in (sharp, blurred):
        img = ClassVisualization(net).visualize(2, pr, steps=4, size=12, show_progress=False)
        tv.append(float((img[..., 1:] - img[..., :-1]).abs().sum()))
    assert tv[1] < tv[0]


def test_contribution_clipping() -> None:
    net = tiny_net()
    p = PRESETS["yosinski"].replace(contrib_pct=0.3, norm_pct=0.0, jitter=0)
    images = ClassVisualization(net).visualize(0, p, steps=3, size=10, show_progress=False)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    assert float(((images - mean).abs().amax(1) < 1e-6).float().mean()) >= 0.29


def test_snapshots_and_filmstrip(tmp_path: object) -> None:
    net = tiny_net()
    res = ClassVisualization(net).run(
        1, "simonyan", steps=4, size=12, snapshot_steps=[0, 2, 4], show_progress=False
    )
    assert sorted(res.snapshots) == [0, 2, 4]
    strip = res.filmstrip(0, size=24)
    assert strip.ndim == 3 and strip.shape[0] == 3
    path = res.save(tmp_path / "cv.png")  # type: ignore[operator]
    assert path.exists()


def test_neuron_visualization_batched() -> None:
    net = tiny_net()
    nv = NeuronVisualization(net, "relu2")
    res = nv.run([0, 1, 2], "lucent", steps=15, size=16, show_progress=False)
    assert res.images.shape == (3, 3, 16, 16) and "probs" not in res.extras
    assert res.history[-1].sum() > res.history[0].sum()
    pre = NeuronVisualization(net, "conv2")  # before the ReLU, so the neuron is never dead
    one = pre.run(4, "yosinski", x=2, y=3, steps=10, size=12, show_progress=False)
    assert one.extras["values"].shape == (1,) and one.history[-1, 0] > one.history[0, 0]
    mod = NeuronVisualization(net, net.conv2)
    assert mod.layer == "conv2"


def test_multifaceted_init_finds_clusters() -> None:
    """Two well-separated groups of images: the facets are their means, largest first."""
    net = tiny_net()
    g = torch.Generator().manual_seed(0)
    dark = 0.1 + 0.05 * torch.rand(5, 3, 8, 8, generator=g)
    bright = 0.85 + 0.05 * torch.rand(3, 3, 8, 8, generator=g)
    inits = multifaceted_init(net, torch.cat([bright, dark]), 2, layer="relu1")
    torch.testing.assert_close(inits[0], dark.mean(0))
    torch.testing.assert_close(inits[1], bright.mean(0))
    images = ClassVisualization(net).visualize_facets(
        2, torch.cat([bright, dark]), k=2, steps=3, show_progress=False
    )
    assert images.shape == (2, 3, 8, 8)
    # each facet stays near its own start
    assert float(images[0].mean()) < float(images[1].mean())


def test_world_restored() -> None:
    net = tiny_net().train()
    snap = snapshot_world(net)
    ClassVisualization(net).visualize(0, "yosinski", steps=2, size=12, show_progress=False)
    NeuronVisualization(net, "relu1").visualize(1, steps=2, size=12, show_progress=False)
    snap.assert_unchanged()

    def cb(step: int, state: OptimizationState) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        ClassVisualization(net).visualize(0, steps=3, size=12, callbacks=[cb], show_progress=False)
    snap.assert_unchanged()
    bad = RaiseOnCall(tiny_net(), k=3)
    snap2 = snapshot_world(bad)
    with pytest.raises(RuntimeError, match="boom"):
        ClassVisualization(bad).visualize(0, steps=5, size=12, show_progress=False)
    snap2.assert_unchanged()


def test_exception() -> None:
    net = tiny_net()
    vis = ClassVisualization(net)
    with pytest.raises(ValueError, match="out of range"):
        vis.visualize(5, steps=2, size=12, show_progress=False)
    with pytest.raises(ValueError, match="unknown preset"):
        vis.visualize(1, "olah", steps=2, size=12, show_progress=False)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        vis.visualize(1, steps=0, size=12, show_progress=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vis.visualize(1, init=torch.full((1, 3, 12, 12), 2.0), steps=2, size=12)
    with pytest.raises(ValueError, match="init has shape"):
        vis.visualize(1, init=torch.rand(1, 3, 10, 10), steps=2, size=12)
    with pytest.raises(ValueError, match="no ImageNet class is called"):
        vis.visualize("definitely not a class", steps=2, size=12)
    with pytest.raises(TypeError, match="bool"):
        vis.visualize(True, steps=2, size=12)
    with pytest.raises(ValueError, match="does not exist"):
        NeuronVisualization(net, "relu9")
    with pytest.raises(ValueError, match="channel 6 is out of range"):
        NeuronVisualization(net, "relu2").visualize(6, steps=2, size=12)
    with pytest.raises(ValueError, match="at least k=3"):
        multifaceted_init(net, torch.rand(2, 3, 8, 8), 3)
    with pytest.raises(ValueError, match="need param='pixel'"):
        vis.visualize(1, PRESETS["lucent"].replace(decay=0.1), steps=2, size=12)
