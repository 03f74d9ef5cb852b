"""Tiny models and the table of attribution methods shared by the attribution tests.

``CASES`` lists every attribution class of ``attribkit.attr`` with a way to build it on a model
and the keyword arguments of a quick call; the conformance and bad-input tables run over it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from attribkit import attr


def _init(module: nn.Module, seed: int, scale: float = 0.5) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)


class TinyNet(nn.Module):
    """A small CNN mixing every rectifier form attribkit must guide (3×8×8 in, 3 classes).

    ``fail`` makes the forward pass raise after the first conv (to test exception paths).
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.relu6 = nn.ReLU6()
        self.conv3 = nn.Conv2d(6, 6, 3, padding=1)
        self.leaky = nn.LeakyReLU(0.1)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(24, 3)
        _init(self, 0)
        self.fail = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv1(x))
        if self.fail:
            raise RuntimeError("forward failed on purpose")
        x = self.relu6(self.conv2(x) * 3)
        x = F.relu(self.conv3(x)) - 0.1
        x = self.leaky(x)
        return self.fc(self.pool(x).flatten(1))


class StateNet(nn.Module):
    """A small CNN with state worth preserving (BatchNorm statistics, dropout) built only from
    modules every Captum method supports (DeepLift, LRP): 3×8×8 in, 3 classes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(24, 3)
        _init(self, 3)
        with torch.no_grad():
            self.bn.weight.abs_().add_(0.5)
        self.fail = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.bn(self.conv1(x)))
        if self.fail:
            raise RuntimeError("forward failed on purpose")
        x = self.relu2(self.conv2(x))
        return self.fc(self.drop(self.pool(x).flatten(1)))


class PlainNet(nn.Module):
    """``nn.ReLU`` modules only, so Captum's own guided backprop, DeepLift and LRP are exact on
    it: 3×6×6 in, 3 classes. Built in float64 for the compatibility table."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(16, 3)
        _init(self, 5)
        self.double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return self.fc(self.pool(x).flatten(1))


class TwoInputNet(nn.Module):
    """``forward(x, y, scale)``: two inputs and an additional argument (float64)."""

    def __init__(self) -> None:
        super().__init__()
        self.lx = nn.Linear(4, 3)
        self.ly = nn.Linear(2, 3)
        self.relu = nn.ReLU()
        self.out = nn.Linear(3, 3)
        _init(self, 7)
        self.double()

    def forward(self, x: torch.Tensor, y: torch.Tensor, scale: Any = 1.0) -> torch.Tensor:
        return self.out(self.relu(self.lx(x) + self.ly(y) * scale))


class GridNet(nn.Module):
    """Outputs ``N×2×3`` (targets are tuples), float64."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 6)
        self.relu = nn.ReLU()
        _init(self, 9)
        self.double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.lin(x)).view(-1, 2, 3)


class TokenNet(nn.Module):
    """Token ids ``N×L`` into an embedding: integer inputs (float64 weights)."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 3)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(12, 2)
        _init(self, 11)
        self.double()

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.relu(self.emb(ids)).flatten(1))


def rand(*shape: int, seed: int = 1, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def finite_of_shape(expected: tuple[int, ...]) -> Callable[[torch.Tensor], None]:
    """A check that a result is a finite tensor of shape ``expected``."""

    def check(out: torch.Tensor) -> None:
        assert tuple(out.shape) == expected and bool(torch.isfinite(out).all())

    return check


def quadrants(x: torch.Tensor) -> torch.Tensor:
    """A ``1×1×H×W`` feature mask with 4 groups (the image's quadrants)."""
    h, w = x.shape[-2:]
    mask = torch.zeros(1, 1, h, w, dtype=torch.long)
    mask[..., h // 2 :, :] += 2
    mask[..., :, w // 2 :] += 1
    return mask


def _distribution(x: Any) -> Any:
    first = x[0] if isinstance(x, tuple) else x
    d = rand(3, *first.shape[1:], seed=4, dtype=first.dtype)
    return (d,) if isinstance(x, tuple) else d


def _mask(x: Any) -> Any:
    first = x[0] if isinstance(x, tuple) else x
    return (quadrants(first),) if isinstance(x, tuple) else quadrants(first)


LAYER = "conv2"
NEURON = (0, 2, 2)


@dataclass
class Case:
    """One attribution class in the shared table.

    ``kwargs(x)`` gives the call's keyword arguments for inputs ``x`` (a tensor or a tuple);
    ``neuron`` calls pass ``NEURON`` as Captum's ``neuron_selector``.
    """

    name: str
    build: Callable[[nn.Module], Any]
    kwargs: Callable[[Any], dict[str, Any]] = lambda x: {}
    targeted: bool = True
    neuron: bool = False
    layer_shaped: bool = False
    random: bool = False
    batch_independent: bool = True
    tuples: bool = True
    single: bool = False  # one example per call

    @property
    def cls(self) -> type:
        return getattr(attr, self.name.split("-")[0])  # type: ignore[no-any-return]

    def call(self, method: Any, x: Any, target: Any = None, like: Any = None, **more: Any) -> Any:
        """``method.attribute(x, ...)`` with this case's arguments, made for ``like`` (default
        ``x``; pass good inputs when ``x`` is a bad one)."""
        kwargs = {**self.kwargs(x if like is None else like), **more}
        if self.targeted and target is not None:
            kwargs["target"] = target
        if self.neuron:
            return method.attribute(x, NEURON, **kwargs)
        return method.attribute(x, **kwargs)


def _dist(**kw: Any) -> Callable[[Any], dict[str, Any]]:
    return lambda x: {"baselines": _distribution(x), **kw}


def _masked(**kw: Any) -> Callable[[Any], dict[str, Any]]:
    return lambda x: {"feature_mask": _mask(x), **kw}


def _lime_base(m: nn.Module) -> Any:
    from captum._utils.models.linear_model import SkLearnLinearRegression

    def perturb(x: Any, **kw: Any) -> torch.Tensor:
        return torch.randint(0, 2, (1, 4))

    def from_interp(curr: torch.Tensor, x: torch.Tensor, **kw: Any) -> torch.Tensor:
        q = quadrants(x).to(x.device)
        return x * curr[0][q]

    return attr.LimeBase(
        m,
        SkLearnLinearRegression(),
        lambda x, p, i, **kw: 1.0,
        perturb,
        True,
        from_interp,
        None,
    )


CASES = [
    Case("Saliency", lambda m: attr.Saliency(m)),
    Case("InputXGradient", lambda m: attr.InputXGradient(m)),
    Case("IntegratedGradients", lambda m: attr.IntegratedGradients(m), lambda x: {"n_steps": 4}),
    Case("GuidedBackprop", lambda m: attr.GuidedBackprop(m)),
    Case("Deconvolution", lambda m: attr.Deconvolution(m)),
    Case("DeepLift", lambda m: attr.DeepLift(m)),
    Case("DeepLiftShap", lambda m: attr.DeepLiftShap(m), _dist()),
    Case(
        "GradientShap",
        lambda m: attr.GradientShap(m),
        _dist(n_samples=3, stdevs=0.1),
        random=True,
        batch_independent=False,
    ),
    Case("LRP", lambda m: attr.LRP(m)),
    Case("GuidedGradCam", lambda m: attr.GuidedGradCam(m, LAYER)),
    Case(
        "NoiseTunnel",
        lambda m: attr.NoiseTunnel(attr.Saliency(m)),
        lambda x: {"nt_samples": 3, "stdevs": 0.1},
        random=True,
        batch_independent=False,
    ),
    Case("FeatureAblation", lambda m: attr.FeatureAblation(m), _masked()),
    Case(
        "FeaturePermutation",
        lambda m: attr.FeaturePermutation(m),
        _masked(),
        random=True,
        batch_independent=False,  # permutes across the batch
    ),
    Case(
        "Occlusion",
        lambda m: attr.Occlusion(m),
        lambda x: {"sliding_window_shapes": (3, 4, 4), "strides": 4},
    ),
    Case(
        "Occlusion-lecture",
        lambda m: attr.Occlusion(m),
        lambda x: {
            "sliding_window_shapes": 4,
            "strides": 4,
            "baselines": "mean",
            "probability": True,
        },
    ),
    Case(
        "ShapleyValueSampling",
        lambda m: attr.ShapleyValueSampling(m),
        _masked(n_samples=2),
        random=True,
        batch_independent=False,
    ),
    Case("ShapleyValues", lambda m: attr.ShapleyValues(m), _masked()),
    Case(
        "Lime",
        lambda m: attr.Lime(m),
        _masked(n_samples=8),
        random=True,
        batch_independent=False,
    ),
    Case(
        "KernelShap",
        lambda m: attr.KernelShap(m),
        _masked(n_samples=8),
        random=True,
        batch_independent=False,
    ),
    Case(
        "LimeBase",
        _lime_base,
        lambda x: {"n_samples": 6},
        random=True,
        batch_independent=False,
        tuples=False,
        single=True,
    ),
    Case(
        "LayerActivation",
        lambda m: attr.LayerActivation(m, LAYER),
        targeted=False,
        layer_shaped=True,
        tuples=False,
    ),
    Case("LayerGradCam", lambda m: attr.LayerGradCam(m, LAYER), layer_shaped=True, tuples=False),
    Case(
        "LayerConductance",
        lambda m: attr.LayerConductance(m, LAYER),
        lambda x: {"n_steps": 4},
        layer_shaped=True,
        tuples=False,
    ),
    Case(
        "LayerGradientXActivation",
        lambda m: attr.LayerGradientXActivation(m, LAYER),
        layer_shaped=True,
        tuples=False,
    ),
    Case(
        "LayerFeaturePermutation",  # Captum's version takes no target on class outputs
        lambda m: attr.LayerFeaturePermutation(m, LAYER),
        lambda x: {"layer_mask": torch.arange(6).view(1, 6, 1, 1)},
        targeted=False,
        layer_shaped=True,
        random=True,
        batch_independent=False,
        tuples=False,
    ),
    Case(
        "LayerFeatureAblation",
        lambda m: attr.LayerFeatureAblation(m, LAYER),
        lambda x: {"layer_mask": torch.arange(6).view(1, 6, 1, 1)},
        layer_shaped=True,
        tuples=False,
    ),
    Case(
        "InternalInfluence",
        lambda m: attr.InternalInfluence(m, LAYER),
        lambda x: {"n_steps": 4},
        layer_shaped=True,
        tuples=False,
    ),
    Case("LayerDeepLift", lambda m: attr.LayerDeepLift(m, LAYER), layer_shaped=True, tuples=False),
    Case(
        "LayerDeepLiftShap",
        lambda m: attr.LayerDeepLiftShap(m, LAYER),
        _dist(),
        layer_shaped=True,
        tuples=False,
    ),
    Case(
        "LayerGradientShap",
        lambda m: attr.LayerGradientShap(m, LAYER),
        _dist(n_samples=3, stdevs=0.1),
        layer_shaped=True,
        random=True,
        batch_independent=False,
        tuples=False,
    ),
    Case(
        "LayerIntegratedGradients",
        lambda m: attr.LayerIntegratedGradients(m, LAYER),
        lambda x: {"n_steps": 4},
        layer_shaped=True,
        tuples=False,
    ),
    Case("LayerLRP", lambda m: attr.LayerLRP(m, LAYER), layer_shaped=True, tuples=False),
    Case(
        "NeuronConductance",
        lambda m: attr.NeuronConductance(m, LAYER),
        lambda x: {"n_steps": 4},
        neuron=True,
    ),
    Case(
        "NeuronFeatureAblation",
        lambda m: attr.NeuronFeatureAblation(m, LAYER),
        _masked(),
        targeted=False,
        neuron=True,
    ),
    Case("NeuronGradient", lambda m: attr.NeuronGradient(m, LAYER), targeted=False, neuron=True),
    Case(
        "NeuronIntegratedGradients",
        lambda m: attr.NeuronIntegratedGradients(m, LAYER),
        lambda x: {"n_steps": 4},
        targeted=False,
        neuron=True,
    ),
    Case("NeuronDeepLift", lambda m: attr.NeuronDeepLift(m, LAYER), targeted=False, neuron=True),
    Case(
        "NeuronDeepLiftShap",
        lambda m: attr.NeuronDeepLiftShap(m, LAYER),
        _dist(),
        targeted=False,
        neuron=True,
    ),
    Case(
        "NeuronGradientShap",
        lambda m: attr.NeuronGradientShap(m, LAYER),
        _dist(n_samples=3, stdevs=0.1),
        targeted=False,
        neuron=True,
        random=True,
        batch_independent=False,
    ),
    Case(
        "NeuronGuidedBackprop",
        lambda m: attr.NeuronGuidedBackprop(m, LAYER),
        targeted=False,
        neuron=True,
    ),
    Case(
        "NeuronDeconvolution",
        lambda m: attr.NeuronDeconvolution(m, LAYER),
        targeted=False,
        neuron=True,
    ),
]
