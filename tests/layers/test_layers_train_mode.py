"""Read-only methods given a model left in train mode (BatchNorm + Dropout): each one runs it in
eval mode — so two calls agree, and agree with an eval-mode copy — and gives it back with its
mode, running statistics and every other piece of state unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from helpers.tiny import bn_dropout_net, eval_copy
from torch import nn

from attribkit import (
    FeatureBank,
    MaxActivatingPatches,
    MultiStyleNet,
    activation_grid,
    extract_features,
    filter_grid,
    receptive_field,
    stylize,
)
from attribkit.layers import analytic_receptive_field, empirical_receptive_field
from attribkit.testing import snapshot_world

X = torch.rand(6, 3, 12, 12, generator=torch.Generator().manual_seed(0))


def _same(a: Any, b: Any) -> None:
    if isinstance(a, torch.Tensor):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    elif hasattr(a, "values") and hasattr(a, "index"):  # TopK
        assert torch.equal(a.index, b.index)
        torch.testing.assert_close(a.values, b.values, rtol=0, atol=1e-6)
    elif hasattr(a, "image"):  # ActivationGrid
        torch.testing.assert_close(a.image, b.image, rtol=0, atol=1e-6)
    elif hasattr(a, "features"):  # FeatureBank
        torch.testing.assert_close(a.features, b.features, rtol=0, atol=1e-6)
    else:
        assert a == b


CALLS: dict[str, Callable[[nn.Module], Any]] = {
    "extract_features": lambda m: extract_features(m, X, "4", pool="avg", show_progress=False),
    "MaxActivatingPatches": lambda m: MaxActivatingPatches(m, "5", k=2, show_progress=False).scan(
        X
    ),
    "activation_grid": lambda m: activation_grid(m, "3", X[:1], size=8),
    "filter_grid": lambda m: filter_grid(m, padding=0),
    "receptive_field": lambda m: receptive_field(m, "4", 12),
    "analytic_receptive_field": lambda m: analytic_receptive_field(m, "5", 12),
    "empirical_receptive_field": lambda m: empirical_receptive_field(m, "4", 12),
    "FeatureBank.from_model": lambda m: FeatureBank.from_model(m, X, "4", show_progress=False),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_train_mode_model_is_read_in_eval_mode_and_left_unchanged(name: str) -> None:
    net = bn_dropout_net()
    ref = CALLS[name](eval_copy(net))
    world = snapshot_world(net, X)
    first = CALLS[name](net)
    second = CALLS[name](net)
    world.assert_unchanged()
    assert net.training and net[3].training
    _same(first, ref)
    _same(second, ref)


def test_stylize_and_evaluate_style_leave_a_train_mode_network() -> None:
    from attribkit.style.train import StyleSpec, evaluate_style

    net = MultiStyleNet(2, width=4, n_residual=1).train()
    ref = stylize(eval_copy(net), X[:2, :, :8, :8], 1)  # type: ignore[arg-type]
    world = snapshot_world(net, X)
    out = stylize(net, X[:2, :, :8, :8], 1)
    world.assert_unchanged()
    assert net.training
    _same(out, ref)
    bb = bn_dropout_net()
    bb_world = snapshot_world(bb)
    g = torch.Generator().manual_seed(1)
    styles = {n: StyleSpec(torch.rand(1, 3, 16, 16, generator=g), size=None) for n in "ab"}
    res = evaluate_style(net, X[:2], styles, backbone=bb, style_layers=["2", "5"], pad=0)
    again = evaluate_style(net, X[:2], styles, backbone=bb, style_layers=["2", "5"], pad=0)
    bb_world.assert_unchanged()
    world.assert_unchanged()
    _same(res["stylized"], again["stylized"])
