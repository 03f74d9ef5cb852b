"""The optimization loop: every objective improves, state is restored on every exit path,
only the declared layers are hooked, batching equals sequential runs, bad input is refused."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from helpers.nets import RaiseOnCall, tiny_net
from torch import nn

from attribkit.layers import count_hooks
from attribkit.optvis import (
    Compose,
    FFTImage,
    Jitter,
    Objective,
    OptimizationState,
    Pad,
    PixelImage,
    blur_penalty,
    channel,
    class_logit,
    class_logprob,
    deepdream,
    diversity,
    image_param,
    l1,
    l2,
    neuron,
    optimize,
    total_variation,
)
from attribkit.testing import snapshot_world

OBJECTIVES = {
    "channel": channel("relu2", 1),
    "neuron": neuron("conv2", 3, x=2, y=3),
    "class_logit": class_logit(2),
    "class_logprob": class_logprob(4),
    "deepdream": deepdream("relu1"),
    "l1": -l1(),
    "l2": -l2(),
    "total_variation": -total_variation(),
    "blur_penalty": -blur_penalty(1.0),
    "diversity": diversity("relu1"),
    "composite": channel("relu2", 0) - 1e-2 * l2() + 0.5 * neuron("relu1", 1),
}


def noisy_param(n: int = 1, size: int = 12, seed: int = 0) -> PixelImage:
    g = torch.Generator().manual_seed(seed)
    return PixelImage((n, 3, size, size), init=torch.rand(n, 3, size, size, generator=g))


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_objective_improves(name: str) -> None:
    net = tiny_net()
    obj = OBJECTIVES[name]
    n = 2 if name == "diversity" else 1
    res = optimize(net, obj, noisy_param(n), steps=15, lr=0.05, show_progress=False, seed=0)
    assert res.history.shape == (15, n)
    first, last = res.history[0].sum(), res.history[-1].sum()
    assert last > first + 1e-4 * abs(float(first)), f"{name}: {float(first)} -> {float(last)}"
    assert torch.all(res.best_values >= res.history.max(0).values - 1e-6)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "lbfgs", "normalized", "callable"])
def test_optimizers_improve(optimizer: str) -> None:
    net = tiny_net()
    spec: Any = optimizer
    if optimizer == "callable":
        spec = lambda ps: torch.optim.RMSprop(ps, lr=0.01)  # noqa: E731
    lr = 0.1 if optimizer == "sgd" else None
    res = optimize(
        net,
        class_logit(1) - 1e-3 * l2(),
        noisy_param(),
        steps=10,
        optimizer=spec,
        lr=lr,
        show_progress=False,
        seed=0,
    )
    assert res.history[-1, 0] > res.history[0, 0]
    assert res.steps_run == 10


def test_lbfgs_uses_same_transform_within_a_step() -> None:
    net = tiny_net()
    tf = Compose(Pad(2), Jitter(3))
    res = optimize(
        net,
        channel("relu2", 2),
        FFTImage((1, 3, 12, 12), seed=0),
        transforms=tf,
        steps=8,
        optimizer="lbfgs",
        show_progress=False,
        seed=1,
    )
    assert res.history[-1, 0] > res.history[0, 0]


def test_result_fields_and_snapshots() -> None:
    net = tiny_net()
    res = optimize(
        net,
        channel("relu1", 0),
        noisy_param(2),
        steps=6,
        snapshot_steps=[0, 3, 6],
        show_progress=False,
        seed=0,
        keep="last",
    )
    assert sorted(res.snapshots) == [0, 3, 6]
    assert res.images.shape == (2, 3, 12, 12) and res.seed == 0 and res.seconds > 0
    assert res.last_images is not None and torch.equal(res.images, res.last_images)
    assert torch.equal(res.snapshots[6], res.last_images)
    assert not res.interrupted and not res.stopped_early
    strip = res.filmstrip(1, size=16)
    assert strip.shape[0] == 3 and float(strip.min()) >= 0 and float(strip.max()) <= 1


def test_seed_reproducible_with_transforms() -> None:
    net = tiny_net()
    tf = Compose(Pad(2), Jitter(4))
    runs = [
        optimize(
            net,
            channel("relu2", 0),
            noisy_param(),
            transforms=tf,
            steps=5,
            show_progress=False,
            seed=7,
        ).history
        for _ in range(2)
    ]
    assert torch.equal(runs[0], runs[1])


def test_batched_equals_sequential() -> None:
    """N channels in one batch of N images give the same images as N runs (Adam is per-element)."""
    net = tiny_net(dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    init = torch.rand(4, 3, 10, 10, generator=g, dtype=torch.float64)
    batched = optimize(
        net,
        channel("relu2", [0, 1, 2, 3]),
        PixelImage((4, 3, 10, 10), init=init, dtype=torch.float64),
        steps=8,
        show_progress=False,
        seed=0,
        keep="last",
    )
    for i in range(4):
        one = optimize(
            net,
            channel("relu2", i),
            PixelImage((1, 3, 10, 10), init=init[i : i + 1], dtype=torch.float64),
            steps=8,
            show_progress=False,
            seed=0,
            keep="last",
        )
        torch.testing.assert_close(one.images[0], batched.images[i])


def test_only_declared_layers_hooked_and_forward_truncated() -> None:
    net = tiny_net()
    calls: list[str] = []
    handles = [
        m.register_forward_hook(lambda mod, i, o, n=n: calls.append(n))
        for n, m in net.named_children()
    ]
    before = count_hooks(net)
    seen: list[int] = []

    def cb(step: int, state: OptimizationState) -> None:
        seen.append(count_hooks(net) - before)

    optimize(net, channel("relu1", 0), noisy_param(), steps=2, callbacks=[cb], show_progress=False)
    assert seen == [2, 2]  # one capture hook + one stop hook on relu1, nothing else
    assert "conv2" not in calls and "fc" not in calls, "the forward pass was not truncated"
    calls.clear()
    seen.clear()
    optimize(
        net,
        channel("relu1", 0) + class_logit(0),
        noisy_param(),
        steps=1,
        callbacks=[cb],
        show_progress=False,
    )
    assert seen == [1] and "fc" in calls
    for h in handles:
        h.remove()
    assert count_hooks(net) == 0


def test_regularizer_only_skips_the_model() -> None:
    net = RaiseOnCall(tiny_net(), k=1)
    res = optimize(net, -l2(), noisy_param(), steps=3, show_progress=False)
    assert net.calls == 0 and res.steps_run == 3


def _dirty_model() -> nn.Module:
    """A model left in train mode, with requires_grad on and existing .grad buffers."""
    net = tiny_net().train()
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    return net


def test_world_restored_after_success() -> None:
    net = _dirty_model()
    snap = snapshot_world(net)
    optimize(net, channel("relu2", 1) + class_logit(0), noisy_param(), steps=3, show_progress=False)
    snap.assert_unchanged()


def test_world_restored_after_exception_in_forward() -> None:
    net = RaiseOnCall(_dirty_model(), k=3)
    snap = snapshot_world(net)
    with pytest.raises(RuntimeError, match="boom"):
        optimize(net, channel("net.relu2", 1), noisy_param(), steps=5, show_progress=False)
    snap.assert_unchanged()


def test_world_restored_after_exception_in_callback() -> None:
    net = _dirty_model()
    snap = snapshot_world(net)

    def cb(step: int, state: OptimizationState) -> None:
        if step == 2:
            raise ValueError("callback failed")

    with pytest.raises(ValueError, match="callback failed"):
        optimize(net, class_logit(1), noisy_param(), steps=5, callbacks=[cb], show_progress=False)
    snap.assert_unchanged()


def test_keyboard_interrupt_from_callback_returns_best_so_far() -> None:
    net = _dirty_model()
    snap = snapshot_world(net)

    def cb(step: int, state: OptimizationState) -> None:
        if step == 4:
            raise KeyboardInterrupt

    res = optimize(
        net,
        channel("relu2", 0),
        noisy_param(),
        steps=50,
        callbacks=[cb],
        show_progress=False,
        seed=0,
    )
    snap.assert_unchanged()
    assert res.interrupted and res.steps_run == 4 and res.history.shape == (4, 1)
    assert float(res.best_values[0]) == pytest.approx(float(res.history.max()))


def test_keyboard_interrupt_in_forward() -> None:
    net = RaiseOnCall(_dirty_model(), k=3, exc=KeyboardInterrupt)
    snap = snapshot_world(net)
    res = optimize(net, class_logit(0), noisy_param(), steps=10, show_progress=False)
    snap.assert_unchanged()
    assert res.interrupted and res.steps_run == 2 and res.images.shape == (1, 3, 12, 12)


def test_stop_iteration_stops_early() -> None:
    net = tiny_net()

    def cb(step: int, state: OptimizationState) -> None:
        assert state.image.shape == (1, 3, 12, 12) and state.values.shape == (1,)
        assert state.loss == pytest.approx(-float(state.values.sum()))
        if step == 3:
            raise StopIteration

    res = optimize(
        net, channel("relu2", 0), noisy_param(), steps=20, callbacks=[cb], show_progress=False
    )
    assert res.stopped_early and res.steps_run == 3


def test_param_moved_to_model_dtype() -> None:
    net = tiny_net(dtype=torch.float64)
    res = optimize(net, channel("relu1", 0), noisy_param(), steps=2, show_progress=False)
    assert res.images.dtype == torch.float64


def test_progress_bar_can_be_shown(capsys: pytest.CaptureFixture[str]) -> None:
    optimize(
        tiny_net(), channel("relu1", 0), noisy_param(), steps=2, show_progress=True, desc="tinyrun"
    )
    assert "tinyrun" in capsys.readouterr().err


def test_exception() -> None:
    net = tiny_net()
    p = noisy_param()
    snap = snapshot_world(net)
    with pytest.raises(ValueError, match="did you mean 'relu2'"):
        optimize(net, channel("relu_2", 0), p, steps=2, show_progress=False)
    with pytest.raises(ValueError, match="channel 9 is out of range"):
        optimize(net, channel("relu2", 9), p, steps=2, show_progress=False)
    with pytest.raises(ValueError, match="class 5 is out of range"):
        optimize(net, class_logit(5), p, steps=2, show_progress=False)
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="steps must be a positive integer"):
            optimize(net, channel("relu2", 0), p, steps=bad, show_progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="snapshot steps"):
        optimize(net, channel("relu2", 0), p, steps=2, snapshot_steps=[3], show_progress=False)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        optimize(net, channel("relu2", 0), p, steps=2, optimizer="adamw", show_progress=False)
    with pytest.raises(ValueError, match="lr must be a positive"):
        optimize(net, channel("relu2", 0), p, steps=2, lr=-1.0, show_progress=False)
    with pytest.raises(TypeError, match="Objective"):
        optimize(net, lambda ctx: ctx.image.sum(), p, steps=2, show_progress=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="param"):
        optimize(net, channel("relu2", 0), torch.zeros(1, 3, 8, 8), steps=2, show_progress=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nn.Module"):
        optimize(lambda x: x, channel("relu2", 0), p, steps=2, show_progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="keep"):
        optimize(net, channel("relu2", 0), p, steps=2, keep="first", show_progress=False)
    with pytest.raises(ValueError, match="one score per image"):
        optimize(net, Objective(lambda c: c.image.sum((1, 2))), p, steps=2, show_progress=False)
    with pytest.raises(ValueError, match="one per image"):
        optimize(net, channel("relu2", [0, 1]), p, steps=2, show_progress=False)
    snap.assert_unchanged()


def test_fft_decorrelated_end_to_end() -> None:
    net = tiny_net()
    obj = channel("relu2", [0, 1]) + 0.1 * diversity("relu1")
    res = optimize(
        net,
        obj,
        image_param("fft", (2, 3, 16, 16), decorrelate=True, seed=0),
        transforms=Compose(Pad(2), Jitter(2)),
        steps=12,
        show_progress=False,
        seed=0,
    )
    assert res.history[-1].sum() > res.history[0].sum()


def test_lbfgs_line_search_converges_on_a_quadratic() -> None:
    # regression: torch's LBFGS(max_iter=1) defaults to max_eval=1, which stalls the
    # strong-Wolfe line search; make_optimizer must give it evaluations of its own
    from attribkit.optvis import Objective, PixelImage, optimize

    target = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1
    score = Objective(lambda ctx: -(ctx.image - target).pow(2).flatten(1).sum(1), name="fit")
    param = PixelImage((1, 3, 6, 6), init=torch.full((1, 3, 6, 6), 0.5), squash="clamp")
    res = optimize(nn.Identity(), score, param, steps=15, optimizer="lbfgs", show_progress=False)
    assert float(res.best_values[0]) > -1e-8
