"""The Captum compatibility table: Captum's call forms, run by the same code on ``captum.attr``
and on ``attribkit.attr``, must give the same numbers in float64.

Each form is a function of the namespace ``A`` (one of the two modules), so it is literally code
written against ``captum.attr`` with the import switched. Random methods are seeded identically
before each run (``test_attr_compat_errors.py`` has the bad calls). Written from Captum's
documented API (``captum.attr`` docstrings), not from its tests.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from types import ModuleType
from typing import Any

import captum.attr
import numpy as np
import pytest
import torch
from attr_compat_data import DIST, GRID, IDS, MASK, NET, SCALE, TOKENS, TWO, XT, YT, B, D, T, V, X
from attr_nets import quadrants

from attribkit import attr as ak

Form = Callable[[ModuleType], Any]


def _targets(make: Callable[[ModuleType], Any], x: Any = X, **kw: Any) -> dict[str, Form]:
    """The target forms Captum documents for 2-D outputs, by keyword and by position."""
    return {
        "int": lambda A: make(A).attribute(x, target=1, **kw),
        "list": lambda A: make(A).attribute(x, target=T, **kw),
        "tensor": lambda A: make(A).attribute(x, target=torch.tensor(T), **kw),
        "tensor1": lambda A: make(A).attribute(x, target=torch.tensor(2), **kw),
        "tuple": lambda A: make(A).attribute(x, target=(1,), **kw),
        "list-of-tuples": lambda A: make(A).attribute(x, target=[(0,), (2,)], **kw),
    }


def _grid(make: Callable[[ModuleType], Any], **kw: Any) -> dict[str, Form]:
    """Tuple targets on an ``N×2×3`` output."""
    return {
        "grid-tuple": lambda A: make(A).attribute(V, target=(1, 2), **kw),
        "grid-list": lambda A: make(A).attribute(V, target=[(0, 1), (1, 2)], **kw),
    }


def _two(make: Callable[[ModuleType], Any], **kw: Any) -> dict[str, Form]:
    """Tuple inputs, each extra-argument form."""
    return {
        "tuple-inputs-extra": lambda A: make(A).attribute(
            (XT, YT), target=0, additional_forward_args=(SCALE,), **kw
        ),
        "extra-not-tuple": lambda A: make(A).attribute(
            (XT, YT), target=0, additional_forward_args=2.0, **kw
        ),
    }


def _nt(make: Callable[[ModuleType], Any], **kw: Any) -> dict[str, Form]:
    """NoiseTunnel's three ``nt_type`` over a base method."""
    return {
        f"nt-{t}": lambda A, t=t: A.NoiseTunnel(make(A)).attribute(
            X, nt_type=t, nt_samples=3, stdevs=0.1, target=T, **kw
        )
        for t in ("smoothgrad", "smoothgrad_sq", "vargrad")
    }


def _layer_forms(name: str, **kw: Any) -> dict[str, Form]:
    def make(A: ModuleType) -> Any:
        return getattr(A, name)(NET, NET.conv2)

    forms = _targets(make, **kw)
    forms["to-layer-input"] = lambda A: make(A).attribute(
        X, target=1, attribute_to_layer_input=True, **kw
    )
    return forms


def _neuron_forms(name: str, targeted: bool = False, **kw: Any) -> dict[str, Form]:
    def make(A: ModuleType) -> Any:
        return getattr(A, name)(NET, NET.conv2)

    t = {"target": 1} if targeted else {}
    return {
        "index": lambda A: make(A).attribute(X, (1, 2, 3), **t, **kw),
        "keyword": lambda A: make(A).attribute(X, neuron_selector=(0, 1, 1), **t, **kw),
        "slice": lambda A: make(A).attribute(X, (1, slice(0, 2), 3), **t, **kw),
        "function": lambda A: make(A).attribute(X, lambda out: out[:, 2].sum((1, 2)), **t, **kw),
        "to-neuron-input": lambda A: make(A).attribute(
            X, (1, 2, 3), attribute_to_neuron_input=True, **t, **kw
        ),
    }


def _lime_base(A: ModuleType) -> Any:
    from captum._utils.models.linear_model import SkLearnLinearRegression

    return A.LimeBase(
        lambda x: NET(x).detach(),
        SkLearnLinearRegression(),
        lambda x, p, i, **kw: 1.0,
        lambda x, **kw: torch.randint(0, 2, (1, 4)),
        True,
        lambda c, x, **kw: x * c[0][quadrants(x)].to(x.dtype),
        None,
    )


def _sparse(A: ModuleType) -> Any:
    def f(x: torch.Tensor, ids: torch.Tensor, empty: torch.Tensor) -> torch.Tensor:
        return TWO.out(x[:, :3]) + ids.double().sum() * 0.1 + empty.double().sum()

    return A.FeatureAblation(f).attribute(
        (XT, torch.tensor([1, 2, 3, 4, 5]), torch.zeros(0, dtype=torch.long)), target=1
    )


def _occ(A: ModuleType) -> Any:
    return A.Occlusion(NET)


FORMS: dict[str, dict[str, Form]] = {
    "Saliency": {
        **_targets(lambda A: A.Saliency(NET)),
        **_grid(lambda A: A.Saliency(GRID)),
        **_two(lambda A: A.Saliency(TWO)),
        "positional": lambda A: A.Saliency(NET).attribute(X, 1, False),
        "abs-false": lambda A: A.Saliency(NET).attribute(X, target=T, abs=False),
        "shape-N": lambda A: A.Saliency(lambda t: t**3).attribute(XT[:, 0]),
        **_nt(lambda A: A.Saliency(NET)),
    },
    "NoiseTunnel": {
        "positional": lambda A: A.NoiseTunnel(A.Saliency(NET)).attribute(
            X, "smoothgrad_sq", 4, 2, 0.2, target=1
        ),
        "tuple-stdevs": lambda A: A.NoiseTunnel(A.Saliency(TWO)).attribute(
            (XT, YT), nt_samples=3, stdevs=(0.1, 0.3), target=0, additional_forward_args=SCALE
        ),
        "over-captums-method": lambda A: A.NoiseTunnel(captum.attr.Saliency(NET)).attribute(
            X, nt_samples=3, stdevs=0.1, target=T
        ),
    },
    "InputXGradient": {
        **_targets(lambda A: A.InputXGradient(NET)),
        **_two(lambda A: A.InputXGradient(TWO)),
        **_nt(lambda A: A.InputXGradient(NET)),
    },
    "IntegratedGradients": {
        **_targets(lambda A: A.IntegratedGradients(NET), n_steps=5),
        **_two(lambda A: A.IntegratedGradients(TWO), n_steps=5),
        "positional": lambda A: A.IntegratedGradients(NET).attribute(X, B, 1, None, 5),
        "baseline-scalar": lambda A: A.IntegratedGradients(NET).attribute(X, 0.5, T, n_steps=5),
        "baseline-tuple": lambda A: A.IntegratedGradients(TWO).attribute(
            (XT, YT), (0.1, torch.zeros(1, 2, dtype=D)), 0, SCALE, n_steps=5
        ),
        "methods": lambda A: A.IntegratedGradients(NET, multiply_by_inputs=False).attribute(
            X, B, T, n_steps=6, method="riemann_trapezoid", internal_batch_size=4
        ),
        "delta": lambda A: A.IntegratedGradients(NET).attribute(
            X, B, target=T, n_steps=5, return_convergence_delta=True
        ),
        **_nt(lambda A: A.IntegratedGradients(NET), n_steps=4),
        "nt-delta": lambda A: A.NoiseTunnel(A.IntegratedGradients(NET)).attribute(
            X, nt_samples=2, stdevs=0.1, target=1, n_steps=4, return_convergence_delta=True
        ),
    },
    "GuidedBackprop": {
        **_targets(lambda A: A.GuidedBackprop(NET)),
        **_two(lambda A: A.GuidedBackprop(TWO)),
        **_nt(lambda A: A.GuidedBackprop(NET)),
    },
    "Deconvolution": {
        **_targets(lambda A: A.Deconvolution(NET)),
        **_nt(lambda A: A.Deconvolution(NET)),
    },
    "DeepLift": {
        **_targets(lambda A: A.DeepLift(NET)),
        "baselines-delta": lambda A: A.DeepLift(NET, multiply_by_inputs=False).attribute(
            X, B, T, return_convergence_delta=True
        ),
        **_nt(lambda A: A.DeepLift(NET)),
    },
    "DeepLiftShap": {
        "dist": lambda A: A.DeepLiftShap(NET).attribute(X, DIST, T),
        "dist-delta": lambda A: A.DeepLiftShap(NET).attribute(
            X, baselines=DIST, target=1, return_convergence_delta=True
        ),
    },
    "GradientShap": {
        "dist": lambda A: A.GradientShap(NET).attribute(X, DIST, 4, 0.1, T),
        "keywords-delta": lambda A: A.GradientShap(NET).attribute(
            X, baselines=DIST, n_samples=3, target=1, return_convergence_delta=True
        ),
        "nt-draw-baselines": lambda A: A.NoiseTunnel(A.IntegratedGradients(NET)).attribute(
            X,
            nt_samples=3,
            stdevs=0.1,
            draw_baseline_from_distrib=True,
            baselines=DIST,
            target=1,
            n_steps=3,
        ),
    },
    "LRP": {
        **_targets(lambda A: A.LRP(NET)),
        "delta": lambda A: A.LRP(NET).attribute(X, T, return_convergence_delta=True),
    },
    "GuidedGradCam": {
        **_targets(lambda A: A.GuidedGradCam(NET, NET.conv2)),
        "bilinear": lambda A: A.GuidedGradCam(NET, NET.conv2).attribute(
            X, 1, interpolate_mode="bilinear"
        ),
        **_nt(lambda A: A.GuidedGradCam(NET, NET.conv2)),
    },
    "FeatureAblation": {
        **_targets(lambda A: A.FeatureAblation(NET), feature_mask=MASK),
        **_two(lambda A: A.FeatureAblation(TWO)),
        "positional": lambda A: A.FeatureAblation(NET).attribute(X, 0.5, 1, None, MASK, 3),
        "baselines-tensor-ppe": lambda A: A.FeatureAblation(NET).attribute(
            X, B, T, feature_mask=MASK, perturbations_per_eval=2
        ),
        "baselines-tuple": lambda A: A.FeatureAblation(TWO).attribute(
            (XT, YT), (0.1, 0), 0, (SCALE,), (torch.tensor([[0, 0, 1, 1]]), torch.tensor([[2, 3]]))
        ),
        "per-element": lambda A: A.FeatureAblation(NET).attribute(X[:1], target=0),
        "token-ids": lambda A: A.FeatureAblation(TOKENS).attribute(IDS, 0, 1),
        "booleans": lambda A: A.FeatureAblation(lambda b: TOKENS(b.long() + 1)).attribute(
            IDS > 4, target=0
        ),
        "sparse-features": _sparse,
        "nt": lambda A: A.NoiseTunnel(A.FeatureAblation(NET)).attribute(
            X, nt_samples=2, stdevs=0.1, target=1, feature_mask=MASK
        ),
    },
    "FeaturePermutation": {
        "mask": lambda A: A.FeaturePermutation(NET).attribute(X, T, feature_mask=MASK),
        "ppe": lambda A: A.FeaturePermutation(NET).attribute(
            X, target=1, feature_mask=MASK, perturbations_per_eval=3
        ),
    },
    "Occlusion": {
        **_targets(_occ, sliding_window_shapes=(3, 3, 3), strides=3),
        "positional": lambda A: A.Occlusion(NET).attribute(X, (3, 2, 2), (3, 2, 2), 0.5, T),
        "strides-int-ppe": lambda A: A.Occlusion(NET).attribute(
            X, (3, 3, 3), 2, B, 1, perturbations_per_eval=4
        ),
        "two-inputs": lambda A: A.Occlusion(TWO).attribute(
            (XT, YT), ((2,), (1,)), (1, 1), (0.0, 0.5), 0, (SCALE,)
        ),
        "two-inputs-strides": lambda A: A.Occlusion(TWO).attribute(
            (XT, YT), ((2,), (1,)), ((2,), (1,)), target=2, additional_forward_args=SCALE
        ),
        "token-ids": lambda A: A.Occlusion(TOKENS).attribute(IDS, (2,), 1, 0, 1),
        "nt": lambda A: A.NoiseTunnel(A.Occlusion(NET)).attribute(
            X, nt_samples=2, stdevs=0.1, target=1, sliding_window_shapes=(3, 3, 3), strides=3
        ),
    },
    "ShapleyValueSampling": {
        "mask": lambda A: A.ShapleyValueSampling(NET).attribute(X, B, T, None, MASK, 3),
        "ppe": lambda A: A.ShapleyValueSampling(NET).attribute(
            X, target=1, feature_mask=MASK, n_samples=2, perturbations_per_eval=3
        ),
    },
    "ShapleyValues": {
        "mask": lambda A: A.ShapleyValues(NET).attribute(X, 0.2, T, feature_mask=MASK),
    },
    "Lime": {
        "mask": lambda A: A.Lime(NET).attribute(X[:1], target=1, feature_mask=MASK, n_samples=9),
        "interpretable": lambda A: A.Lime(NET).attribute(
            X[:1], B[:1], 1, None, MASK, 9, return_input_shape=False
        ),
    },
    "KernelShap": {
        "mask": lambda A: A.KernelShap(NET).attribute(X[:1], 0.1, 2, None, MASK, 9),
    },
    "LimeBase": {"custom": lambda A: _lime_base(A).attribute(X[:1], target=1, n_samples=9)},
    "LayerActivation": {
        "output": lambda A: A.LayerActivation(NET, NET.conv2).attribute(X),
        "positional-extra": lambda A: A.LayerActivation(TWO, TWO.lx).attribute((XT, YT), SCALE),
        "input": lambda A: A.LayerActivation(NET, NET.relu2).attribute(
            X, attribute_to_layer_input=True
        ),
        "layers": lambda A: A.LayerActivation(NET, [NET.conv1, NET.conv2]).attribute(X),
    },
    "LayerGradCam": {
        **_targets(lambda A: A.LayerGradCam(NET, NET.conv2)),
        "options": lambda A: A.LayerGradCam(NET, NET.conv2).attribute(
            X, T, None, False, True, False
        ),
        **_nt(lambda A: A.LayerGradCam(NET, NET.conv2)),
    },
    "LayerConductance": {
        **_layer_forms("LayerConductance", n_steps=4),
        "baselines-delta": lambda A: A.LayerConductance(NET, NET.conv2).attribute(
            X, B, T, n_steps=4, return_convergence_delta=True
        ),
    },
    "LayerGradientXActivation": {
        **_layer_forms("LayerGradientXActivation"),
        "not-multiplied": lambda A: A.LayerGradientXActivation(
            NET, NET.conv2, multiply_by_inputs=False
        ).attribute(X, T),
    },
    "LayerFeaturePermutation": {
        "mask": lambda A: A.LayerFeaturePermutation(lambda x: NET(x)[:, 1], NET.conv2).attribute(
            X, layer_mask=torch.arange(4).view(1, 4, 1, 1)
        ),
    },
    "LayerFeatureAblation": {
        **_layer_forms("LayerFeatureAblation"),
        "mask-baselines": lambda A: A.LayerFeatureAblation(NET, NET.conv2).attribute(
            X, 0.1, 1, layer_mask=torch.arange(4).view(1, 4, 1, 1), perturbations_per_eval=2
        ),
    },
    "InternalInfluence": _layer_forms("InternalInfluence", n_steps=4),
    "LayerDeepLift": {
        **_layer_forms("LayerDeepLift"),
        "delta": lambda A: A.LayerDeepLift(NET, NET.conv2).attribute(
            X, B, T, return_convergence_delta=True
        ),
    },
    "LayerDeepLiftShap": {
        "dist": lambda A: A.LayerDeepLiftShap(NET, NET.conv2).attribute(X, DIST, T),
    },
    "LayerGradientShap": {
        "dist": lambda A: A.LayerGradientShap(NET, NET.conv2).attribute(X, DIST, 3, 0.1, T),
    },
    "LayerIntegratedGradients": {
        **_layer_forms("LayerIntegratedGradients", n_steps=4),
        "token-ids": lambda A: A.LayerIntegratedGradients(TOKENS, TOKENS.emb).attribute(
            IDS, 0, 1, n_steps=4, return_convergence_delta=True
        ),
    },
    "LayerLRP": {
        "target": lambda A: A.LayerLRP(NET, NET.conv2).attribute(X, T),
        "delta": lambda A: A.LayerLRP(NET, NET.conv2).attribute(
            X, 1, return_convergence_delta=True
        ),
    },
    "NeuronConductance": _neuron_forms("NeuronConductance", targeted=True, n_steps=4),
    "NeuronFeatureAblation": {
        **_neuron_forms("NeuronFeatureAblation", feature_mask=MASK),
        "baselines-ppe": lambda A: A.NeuronFeatureAblation(NET, NET.conv2).attribute(
            X, (1, 2, 3), 0.2, feature_mask=MASK, perturbations_per_eval=3
        ),
    },
    "NeuronGradient": _neuron_forms("NeuronGradient"),
    "NeuronIntegratedGradients": _neuron_forms("NeuronIntegratedGradients", n_steps=4),
    "NeuronDeepLift": _neuron_forms("NeuronDeepLift"),
    "NeuronDeepLiftShap": {
        "dist": lambda A: A.NeuronDeepLiftShap(NET, NET.conv2).attribute(X, (1, 2, 3), DIST),
    },
    "NeuronGradientShap": {
        "dist": lambda A: A.NeuronGradientShap(NET, NET.conv2).attribute(
            X, (1, 2, 3), DIST, 3, 0.1
        ),
    },
    "NeuronGuidedBackprop": _neuron_forms("NeuronGuidedBackprop"),
    "NeuronDeconvolution": _neuron_forms("NeuronDeconvolution"),
}

CASES = [
    pytest.param(form, id=f"{name}-{fid}") for name, fs in FORMS.items() for fid, form in fs.items()
]


def _seeded(form: Form, namespace: ModuleType) -> Any:
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    return form(namespace)


def _assert_same(ours: Any, theirs: Any) -> None:
    assert type(ours) is type(theirs)
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    elif isinstance(theirs, torch.Tensor):
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-10)
    else:
        assert ours == theirs


def test_the_table_covers_every_attribution_class():
    ours = {
        n
        for n in ak.__all__
        if isinstance(getattr(ak, n), type)
        and issubclass(getattr(ak, n), captum.attr.Attribution)
        and getattr(ak, n).__module__.startswith("attribkit.")
    }
    assert ours - {"DataLoaderAttribution"} == set(FORMS)  # that one: the conformance table


def test_captums_own_names_are_captums_objects():
    for name in captum.attr.__all__:
        theirs, mine = getattr(captum.attr, name), getattr(ak, name)
        assert mine is theirs or issubclass(mine, theirs), name


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("form", CASES)
def test_same_numbers_as_captum(form):
    theirs = _seeded(form, captum.attr)
    ours = _seeded(form, ak)
    _assert_same(ours, theirs)
