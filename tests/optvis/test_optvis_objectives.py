"""Objectives: closed-form values, composition of values and gradients, declared layers, errors."""

from __future__ import annotations

import pytest
import torch
from helpers.nets import tiny_net

from attribkit.layers import capture
from attribkit.optvis import (
    Objective,
    ObjectiveContext,
    as_objective,
    blur_penalty,
    channel,
    class_logit,
    class_logprob,
    deepdream,
    diversity,
    l1,
    l2,
    neuron,
    total_variation,
)


def ctx_for(net: torch.nn.Module, x: torch.Tensor, layers: tuple[str, ...]) -> ObjectiveContext:
    with capture(net, list(layers)) as acts:
        out = net(x)
    return ObjectiveContext(image=x, input=x, acts=dict(acts), output=out)


def test_values_closed_form() -> None:
    a = torch.arange(2 * 3 * 2 * 2, dtype=torch.float64).view(2, 3, 2, 2)
    img = torch.full((2, 3, 2, 2), 0.75, dtype=torch.float64)
    out = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    ctx = ObjectiveContext(img, img, {"L": a}, out)
    torch.testing.assert_close(channel("L", 1)(ctx), a[:, 1].mean((1, 2)))
    torch.testing.assert_close(
        channel("L", [0, 2])(ctx), torch.stack([a[0, 0], a[1, 2]]).mean((1, 2))
    )
    torch.testing.assert_close(neuron("L", 2, x=1, y=0)(ctx), a[:, 2, 0, 1])
    torch.testing.assert_close(neuron("L", 2)(ctx), a[:, 2, 1, 1])
    torch.testing.assert_close(
        class_logit([2, 0])(ctx), torch.tensor([3.0, 0.0], dtype=torch.float64)
    )
    torch.testing.assert_close(
        class_logprob(1)(ctx).exp()[1], torch.tensor(1 / 3, dtype=torch.float64)
    )
    torch.testing.assert_close(deepdream("L")(ctx), 0.5 * a.pow(2).sum((1, 2, 3)))
    torch.testing.assert_close(deepdream("L", reduce="mean")(ctx), a.pow(2).mean((1, 2, 3)))
    torch.testing.assert_close(l1()(ctx), torch.full((2,), 12 * 0.25, dtype=torch.float64))
    torch.testing.assert_close(l2()(ctx), torch.full((2,), 12 * 0.0625, dtype=torch.float64))
    torch.testing.assert_close(l2("L", center=1.0)(ctx), (a - 1).pow(2).sum((1, 2, 3)))
    # beta=1 is smoothed by 1e-8 inside the root, so a flat image scores ~1e-4 per difference
    torch.testing.assert_close(
        total_variation()(ctx), torch.zeros(2, dtype=torch.float64), atol=1e-3, rtol=0
    )
    ramp = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 1, 3, 4).double()
    tv_ctx = ObjectiveContext(ramp, ramp)
    # 2 rows x 3 columns of forward differences, each of size 1
    torch.testing.assert_close(total_variation()(tv_ctx), torch.tensor([6.0], dtype=torch.float64))
    torch.testing.assert_close(
        total_variation(beta=2.0)(tv_ctx), torch.tensor([6.0], dtype=torch.float64)
    )
    checker = (torch.arange(16).view(4, 4) % 2).double().view(1, 1, 4, 4)
    assert float(blur_penalty(1.0)(ObjectiveContext(checker, checker))) > 0.1


def test_diversity_closed_form() -> None:
    z = torch.zeros(2, 3, 1, 1)
    same = torch.ones(2, 2, 1, 1)
    torch.testing.assert_close(diversity("L")(ObjectiveContext(z, z, {"L": same})), -torch.ones(2))
    ortho = torch.eye(2).view(2, 2, 1, 1)
    torch.testing.assert_close(diversity("L")(ObjectiveContext(z, z, {"L": ortho})), torch.zeros(2))
    one = torch.ones(1, 2, 1, 1)
    assert diversity("L")(ObjectiveContext(z[:1], z[:1], {"L": one})).shape == (1,)


def test_algebra_values_and_metadata() -> None:
    a = channel("conv1", 0)
    b = class_logit(1)
    c = (a + 2 * b - b / 4) * 3 - (-a) + 1
    assert c.layers == ("conv1",)
    assert c.needs_output and not a.needs_output
    assert (channel("conv1", 0) + channel("relu2", 1) + channel("conv1", 2)).layers == (
        "conv1",
        "relu2",
    )
    net = tiny_net(dtype=torch.float64)
    x = torch.rand(2, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ctx = ctx_for(net, x, ("conv1",))
    va, vb = a(ctx), b(ctx)
    torch.testing.assert_close(c(ctx), (va + 2 * vb - vb / 4) * 3 + va + 1)
    torch.testing.assert_close((1 - a)(ctx), 1 - va)
    torch.testing.assert_close((a * b)(ctx), va * vb)
    torch.testing.assert_close(sum([a, b])(ctx), va + vb)  # type: ignore[union-attr]
    assert "conv1" in repr(a)


def test_composition_gradients() -> None:
    """grad of a + 2*b equals grad a + 2 grad b, through a real network (float64)."""
    net = tiny_net(dtype=torch.float64)
    g = torch.Generator().manual_seed(3)
    x0 = torch.rand(2, 3, 8, 8, dtype=torch.float64, generator=g)
    a = channel("relu1", [0, 3])
    b = class_logit(2) - 0.1 * total_variation()
    layers = (a + b).layers

    def grad(obj: Objective) -> torch.Tensor:
        x = x0.clone().requires_grad_(True)
        obj(ctx_for(net, x, layers)).sum().backward()
        assert x.grad is not None
        return x.grad

    torch.testing.assert_close(grad(a + 2 * b), grad(a) + 2 * grad(b))
    torch.testing.assert_close(grad(a - b / 2), grad(a) - grad(b) / 2)
    torch.testing.assert_close(grad(-a), -grad(a))


def test_gradcheck_objectives() -> None:
    net = tiny_net(dtype=torch.float64)
    obj = channel("relu1", 1) + neuron("conv2", 2) + deepdream("conv1") - l1() - l2()
    obj = obj - total_variation() + diversity("conv2") + class_logprob(0)
    x = torch.rand(2, 3, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))

    def f(t: torch.Tensor) -> torch.Tensor:
        return obj(ctx_for(net, t, obj.layers))

    assert torch.autograd.gradcheck(f, (x.requires_grad_(True),))


def test_blur_penalty_gradient_is_the_high_pass() -> None:
    x = torch.rand(1, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    x.requires_grad_(True)
    blur_penalty(0.7)(ObjectiveContext(x, x)).sum().backward()
    assert x.grad is not None
    from attribkit.optvis import gaussian_blur

    torch.testing.assert_close(x.grad, (x - gaussian_blur(x, 0.7)).detach())


def test_deepdream_gradient_is_the_activation() -> None:
    a = torch.randn(1, 4, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    a.requires_grad_(True)
    z = torch.zeros(1, 3, 3, 3)
    deepdream("L")(ObjectiveContext(z, z, {"L": a})).sum().backward()
    assert a.grad is not None
    torch.testing.assert_close(a.grad, a.detach())


def test_exception() -> None:
    img = torch.zeros(2, 3, 2, 2)
    ctx = ObjectiveContext(img, img, {"L": torch.zeros(2, 3, 2, 2)}, torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"channel 3 is out of range: L has 3 \(valid 0..2\)"):
        channel("L", 3)(ctx)
    with pytest.raises(ValueError, match="class 7 is out of range"):
        class_logit(7)(ctx)
    with pytest.raises(ValueError, match="one per image"):
        channel("L", [0, 1, 2])(ctx)
    with pytest.raises(ValueError, match=">= 0"):
        channel("L", -1)
    with pytest.raises(TypeError, match="list of ints"):
        channel("L", [0.5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="not a bool"):
        class_logit(True)
    with pytest.raises(TypeError, match="dotted name"):
        channel(torch.nn.ReLU(), 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outside"):
        neuron("L", 0, x=5)(ctx)
    with pytest.raises(KeyError, match="not captured"):
        channel("M", 0)(ctx)
    with pytest.raises(ValueError, match="one score per image"):
        Objective(lambda c: c.image.sum((2, 3)))(ctx)
    with pytest.raises(ValueError, match="needs the model output"):
        class_logit(0)(ObjectiveContext(img, img))
    with pytest.raises(TypeError, match="divided by numbers"):
        channel("L", 0) / channel("L", 1)  # type: ignore[operator]
    with pytest.raises(ZeroDivisionError):
        channel("L", 0) / 0
    with pytest.raises(TypeError):
        channel("L", 0) + "x"  # type: ignore[operator]
    with pytest.raises(TypeError, match="Objective\\(fn"):
        as_objective(lambda ctx: ctx.image.sum())
    with pytest.raises(ValueError, match="reduce"):
        deepdream("L", reduce="max")
    with pytest.raises(TypeError, match="callable"):
        Objective(3)  # type: ignore[arg-type]
