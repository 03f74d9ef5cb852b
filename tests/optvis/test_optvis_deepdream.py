"""DeepDream: the layer's energy grows, octaves carry details, any objective works, the photo and
the model are left as found, bad input is refused."""

from __future__ import annotations

import pytest
import torch
from helpers.nets import RaiseOnCall, tiny_net

from attribkit.layers import capture
from attribkit.optvis import DeepDream, OptimizationState, channel
from attribkit.testing import snapshot_world


def photo(size: int = 24, seed: int = 0) -> torch.Tensor:
    return 0.2 + 0.6 * torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


def energy(net: torch.nn.Module, x: torch.Tensor, layer: str) -> float:
    with torch.no_grad(), capture(net, [layer]) as acts:
        net(x)
    return float(0.5 * acts[layer].pow(2).sum())


def test_dream_amplifies_the_layer() -> None:
    net = tiny_net()
    x = photo()
    snap = snapshot_world(net, x)
    res = DeepDream(net, "relu1").run(
        x, octaves=3, steps=6, jitter=3, lr=0.02, snapshot_steps=[0, 6], show_progress=False
    )
    snap.assert_unchanged()
    assert res.images.shape == x.shape
    assert float(res.images.min()) >= 0 and float(res.images.max()) <= 1
    assert energy(net, res.images, "relu1") > 1.2 * energy(net, x, "relu1")
    assert [o.shape[-1] for o in res.extras["octave_images"]] == [12, 17, 24]
    assert res.extras["octave_sizes"] == [(12, 12), (17, 17), (24, 24)]
    assert res.history.shape == (18, 1) and res.steps_run == 18
    # snapshots of each octave, keyed by the step count over all octaves
    assert sorted(res.snapshots) == [0, 6, 12, 18]
    assert res.filmstrip(0, size=32).shape[0] == 3


def test_details_carried_across_octaves() -> None:
    """The change made at a small octave survives into the next (start = photo + detail)."""
    net = tiny_net()
    x = photo(20)
    seen: list[torch.Tensor] = []

    def cb(step: int, state: OptimizationState) -> None:
        if step == 1:
            seen.append(state.image.clone())

    DeepDream(net, "relu1").dream(
        x, octaves=2, steps=4, jitter=0, lr=0.05, callbacks=[cb], show_progress=False
    )
    second_start = seen[1]
    assert not torch.allclose(second_start, x, atol=1e-3), "the first octave's details were lost"


def test_l1_normalized_step_size() -> None:
    """One step without jitter moves the image by lr × g / mean|g| (before clipping)."""
    net = tiny_net(dtype=torch.float64)
    x = photo(16).double()
    out = DeepDream(net, "conv1").dream(x, octaves=1, steps=1, jitter=0, lr=1e-3,
                                        show_progress=False)
    xg = x.clone().requires_grad_(True)
    with capture(net, ["conv1"]) as acts:
        net(xg)
    (0.5 * acts["conv1"].pow(2).sum()).backward()
    assert xg.grad is not None
    expected = (x + 1e-3 * xg.grad / xg.grad.abs().mean()).clamp(0, 1)
    torch.testing.assert_close(out, expected)


def test_guided_by_any_objective() -> None:
    net = tiny_net()
    x = photo()
    obj = channel("relu2", 3)
    out = DeepDream(net, "relu2").dream(x, octaves=2, steps=5, objective=obj, show_progress=False)
    with torch.no_grad(), capture(net, ["relu2"]) as acts:
        net(torch.cat([x, out]))
    a = acts["relu2"][:, 3].mean((1, 2))
    assert float(a[1]) > float(a[0])


def test_world_restored_after_exception_and_interrupt() -> None:
    base = tiny_net()
    net = RaiseOnCall(base, k=4)
    x = photo()
    snap = snapshot_world(net, x)
    with pytest.raises(RuntimeError, match="boom"):
        DeepDream(net, "net.relu1").dream(x, octaves=2, steps=3, show_progress=False)
    snap.assert_unchanged()

    def cb(step: int, state: OptimizationState) -> None:
        if step == 2:
            raise KeyboardInterrupt

    res = DeepDream(base, "relu1").run(x, octaves=3, steps=4, callbacks=[cb], show_progress=False)
    assert res.images.shape == x.shape and len(res.extras["octave_images"]) == 1
    assert res.interrupted


def test_exception() -> None:
    net = tiny_net()
    dd = DeepDream(net, "relu1")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dd.dream(photo() * 3, show_progress=False)
    with pytest.raises(ValueError, match="4-D"):
        dd.dream(photo()[0], show_progress=False)
    with pytest.raises(ValueError, match="octaves must be a positive integer"):
        dd.dream(photo(), octaves=0, show_progress=False)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        dd.dream(photo(), steps=-1, show_progress=False)
    with pytest.raises(TypeError, match="steps_per_octave"):
        dd.dream(photo(), steps_per_octave=3, show_progress=False)
    with pytest.raises(ValueError, match="octave_scale"):
        dd.dream(photo(), octave_scale=1.0, show_progress=False)
    with pytest.raises(ValueError, match="fewer octaves"):
        dd.dream(photo(16), octaves=6, show_progress=False)
    with pytest.raises(ValueError, match="jitter"):
        dd.dream(photo(), jitter=-1, show_progress=False)
    with pytest.raises(ValueError, match="does not exist"):
        DeepDream(net, "relu7")
    with pytest.raises(TypeError, match="Objective"):
        dd.dream(photo(), objective=lambda c: c.image.sum(), show_progress=False)  # type: ignore[arg-type]
