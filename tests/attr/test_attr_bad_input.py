"""Bad-input rows for every attribution name: attribkit's top-level ones and ``attr.*`` extras.

Rows written by hand cover each name's own options; the classes of the shared table
(``attr_nets.CASES``) also get generated rows with the bad inputs every attribution refuses.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from badinput import Bad, Row, Valid, check_bad, check_valid, parametrize_rows
from captum.attr import GradientAttribution, LayerAttribution
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).parent))  # attr_nets, also when the table check loads us
from attr_nets import CASES, StateNet, TinyNet, rand  # noqa: E402

import attribkit  # noqa: E402
from attribkit import attr  # noqa: E402

X = rand(2, 3, 8, 8, seed=1)
NAN = torch.full((2, 3, 8, 8), float("nan"))
LONG = torch.zeros(2, 3, 8, 8, dtype=torch.long)


def _tiny() -> TinyNet:
    return TinyNet()


def _shape(expected: tuple[int, ...]):  # noqa: ANN202 - a check for Valid
    def check(out: torch.Tensor) -> None:
        assert tuple(out.shape) == expected and bool(torch.isfinite(out).all())

    return check


def _generic_row(case) -> Row:  # noqa: ANN001
    """The bad inputs that every attribution refuses, for one class of the shared table."""
    name = case.cls.__name__
    row_name = name if name in attribkit.__all__ else f"attr.{name}"

    def call(x, target=(0, 2), **kw):  # noqa: ANN001, ANN202
        return lambda: case.call(case.build(StateNet()), x, list(target), like=X, **kw)

    bad = [
        Bad("nan", call(NAN), ValueError, "NaN"),
        Bad("0-d", call(torch.tensor(1.0)), ValueError, "batch dimension"),
        Bad("list", call([X]), TypeError, r"tuple\(inputs\)"),
        Bad("str", call("cat.png"), TypeError, "tensor"),
        Bad("empty-tuple", call(()), TypeError, "tensor"),
    ]
    if case.targeted:
        bad += [
            Bad("target-negative", call(X, (0, -1)), ValueError, "negative"),
            Bad("target-range", call(X, (0, 3)), ValueError, "out of range.*3 outputs"),
        ]
    if issubclass(case.cls, GradientAttribution) and not issubclass(case.cls, LayerAttribution):
        bad.append(Bad("integer", call(LONG), TypeError, "floating point"))

    def train_mode_float64() -> torch.Tensor:
        net = StateNet().double().train()
        x = X.double()[: 1 if case.single else 2]
        out = case.call(case.build(net), x, [0, 2][: x.shape[0]])
        assert net.training
        return out

    return Row(row_name, bad=bad, valid=[Valid("float64-train-mode", train_mode_float64)])


GELU = nn.Sequential(nn.Linear(3, 3), nn.GELU(), nn.Linear(3, 2))
V = rand(2, 3, seed=2)


def _swish_net() -> nn.Module:
    class Gate(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(x * torch.sigmoid(x))

    return Gate()


def _square() -> tuple[torch.Tensor, torch.Tensor]:
    img = torch.full((1, 3, 32, 32), 0.2)
    img[:, 0, 8:24, 8:24] = 0.9
    sal = torch.zeros(32, 32)
    sal[10:22, 10:22] = 1.0
    return img, sal


IMG, SAL = _square()
FLAT_NET = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(72, 2))

ROWS: list[Row] = [_generic_row(c) for c in CASES if c.name != "Occlusion-lecture"] + [
    Row(
        "Saliency",
        bad=[
            Bad(
                "int",
                lambda: attribkit.Saliency(_tiny()).attribute(LONG, target=0),
                TypeError,
                "x.float()",
            ),
            Bad(
                "target-float",
                lambda: attribkit.Saliency(_tiny()).attribute(X, target=0.5),
                TypeError,
                "int",
            ),
            Bad(
                "target-bool",
                lambda: attribkit.Saliency(_tiny()).attribute(X, target=True),
                TypeError,
                "bool",
            ),
            Bad(
                "target-length",
                lambda: attribkit.Saliency(_tiny()).attribute(X, target=[0]),
                ValueError,
                "1 entries but the batch has 2",
            ),
            Bad(
                "tuple-target-length",
                lambda: attribkit.Saliency(_tiny()).attribute(X, target=(0, 1)),
                ValueError,
                "one index per dimension",
            ),
        ],
        valid=[
            Valid(
                "shape-N",
                lambda: attribkit.Saliency(lambda t: t**2).attribute(torch.tensor([1.0, -2.0])),
                lambda out: torch.testing.assert_close(out, torch.tensor([2.0, 4.0])),
            ),
            Valid(
                "positional-target",
                lambda: attribkit.Saliency(_tiny()).attribute(X, 1),
                _shape((2, 3, 8, 8)),
            ),
        ],
    ),
    Row(
        "Occlusion",
        bad=[
            Bad(
                "stride-0",
                lambda: attribkit.Occlusion(_tiny()).attribute(X, 4, 0, target=0),
                ValueError,
                "positive",
            ),
            Bad(
                "stride-negative",
                lambda: attribkit.Occlusion(_tiny()).attribute(X, 4, -2, target=0),
                ValueError,
                "positive",
            ),
            Bad(
                "window-negative",
                lambda: attribkit.Occlusion(_tiny()).attribute(X, (3, -4, 4), target=0),
                ValueError,
                "positive",
            ),
            Bad(
                "window-rank",
                lambda: attribkit.Occlusion(_tiny()).attribute(X, (4, 4), target=0),
                ValueError,
                "needs 3",
            ),
            Bad(
                "int-window-3d",
                lambda: attribkit.Occlusion(_tiny()).attribute(X[0], 4, target=0),
                ValueError,
                "N×C×H×W",
            ),
            Bad(
                "baseline-name",
                lambda: attribkit.Occlusion(_tiny()).attribute(X, 4, baselines="zero", target=0),
                ValueError,
                "'mean'",
            ),
            Bad(
                "memory-budget",
                lambda: attribkit.Occlusion(_tiny(), memory_budget=0),
                ValueError,
                "memory_budget",
            ),
        ],
        valid=[
            Valid(
                "mean-probability",
                lambda: attribkit.Occlusion(_tiny()).attribute(
                    X, 4, 4, "mean", 0, probability=True
                ),
                _shape((2, 3, 8, 8)),
            ),
            Valid(
                "sum-forward",
                lambda: attribkit.Occlusion(lambda t: _tiny()(t).sum()).attribute(
                    X[:1], (3, 4, 4), 4
                ),
                _shape((1, 3, 8, 8)),
            ),
        ],
    ),
    Row(
        "NoiseTunnel",
        bad=[
            Bad(
                "samples-0",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(_tiny())).attribute(
                    X, nt_samples=0, target=0
                ),
                ValueError,
                "nt_samples must be at least 1",
            ),
            Bad(
                "stdevs-nan",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(_tiny())).attribute(
                    X, stdevs=float("nan"), target=0
                ),
                ValueError,
                "finite",
            ),
            Bad(
                "stdevs-negative",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(_tiny())).attribute(
                    X, stdevs=-1.0, target=0
                ),
                ValueError,
                "at least 0",
            ),
            Bad(
                "batch-0",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(_tiny())).attribute(
                    X, nt_samples_batch_size=0, target=0
                ),
                ValueError,
                "nt_samples_batch_size",
            ),
            Bad(
                "type",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(_tiny())).attribute(
                    X, nt_type="smooth", target=0
                ),
                AssertionError,
                "smoothgrad",
            ),
            Bad(
                "not-a-method",
                lambda: attribkit.NoiseTunnel(_tiny()),
                TypeError,
                "attribution method",
            ),
        ],
        valid=[
            Valid(
                "int-stdevs",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(_tiny())).attribute(
                    X, nt_samples=2, stdevs=1, target=0
                ),
                _shape((2, 3, 8, 8)),
            )
        ],
    ),
    Row(
        "UnsupportedActivationError",
        bad=[
            Bad(
                "GELU",
                lambda: attribkit.GuidedBackprop(GELU).attribute(V, target=0),
                attribkit.UnsupportedActivationError,
                "approximate=True",
            ),
            Bad(
                "swish-by-hand",
                lambda: attribkit.GuidedBackprop(_swish_net()).attribute(V, target=0),
                attribkit.UnsupportedActivationError,
                r"x \* sigmoid\(x\)",
            ),
            Bad(
                "hardtanh",
                lambda: attribkit.Deconvolution(
                    nn.Sequential(nn.Linear(3, 3), nn.Hardtanh(), nn.Linear(3, 2))
                ).attribute(V, target=0),
                attribkit.UnsupportedActivationError,
                "approximate=True",
            ),
            Bad(
                "F.silu",
                lambda: attribkit.GuidedBackprop(
                    nn.Sequential(nn.Linear(3, 3), nn.SiLU(), nn.Linear(3, 2))
                ).attribute(V, target=0),
                attribkit.UnsupportedActivationError,
                "SiLU|silu",
            ),
            Bad(
                "neuron",
                lambda: attribkit.NeuronGuidedBackprop(GELU, "2").attribute(V, (0,)),
                attribkit.UnsupportedActivationError,
                "approximate=True",
            ),
        ],
        valid=[
            Valid(
                "approximate",
                lambda: attribkit.GuidedBackprop(GELU, approximate=True).attribute(V, target=0),
                _shape((2, 3)),
            )
        ],
    ),
    Row(
        "saliency_map",
        bad=[
            Bad("3-d", lambda: attribkit.saliency_map(_tiny(), X[0], 0), ValueError, "unsqueeze"),
            Bad(
                "int", lambda: attribkit.saliency_map(_tiny(), LONG, 0), TypeError, "floating-point"
            ),
            Bad("nan", lambda: attribkit.saliency_map(_tiny(), NAN, 0), ValueError, "NaN"),
            Bad("list", lambda: attribkit.saliency_map(_tiny(), [X], 0), TypeError, "Tensor"),
            Bad(
                "target", lambda: attribkit.saliency_map(_tiny(), X, 5), ValueError, "out of range"
            ),
        ],
        valid=[
            Valid(
                "float64",
                lambda: attribkit.saliency_map(_tiny().double(), X.double(), 1),
                _shape((2, 1, 8, 8)),
            )
        ],
    ),
    Row(
        "gradcam_map",
        bad=[
            Bad("3-d", lambda: attribkit.gradcam_map(_tiny(), X[0], 0), ValueError, "unsqueeze"),
            Bad(
                "non-spatial-layer",
                lambda: attribkit.gradcam_map(FLAT_NET, X, 0, layer="3"),
                ValueError,
                "no N×C×H×W output",
            ),
            Bad(
                "unknown-layer",
                lambda: attribkit.gradcam_map(_tiny(), X, 0, layer="conv_2"),
                ValueError,
                "did you mean 'conv2'",
            ),
            Bad(
                "no-conv",
                lambda: attribkit.gradcam_map(nn.Sequential(nn.Flatten()), X, 0),
                ValueError,
                "no nn.Conv2d",
            ),
            Bad("target", lambda: attribkit.gradcam_map(_tiny(), X, -1), ValueError, "negative"),
        ],
        valid=[
            Valid(
                "layer-module",
                lambda: (lambda m: attribkit.gradcam_map(m, X, [0, 1], layer=m.conv2))(_tiny()),
                _shape((2, 1, 8, 8)),
            )
        ],
    ),
    Row(
        "saliency_grabcut",
        bad=[
            Bad(
                "iterations-float",
                lambda: attribkit.saliency_grabcut(IMG, SAL, iterations=2.5),
                ValueError,
                "iterations",
            ),
            Bad("size", lambda: attribkit.saliency_grabcut(IMG, SAL[:10]), ValueError, "32×32"),
            Bad(
                "flat",
                lambda: attribkit.saliency_grabcut(IMG, torch.zeros(32, 32)),
                ValueError,
                "flat",
            ),
            Bad(
                "quantiles",
                lambda: attribkit.saliency_grabcut(IMG, SAL, 0.2, 0.5),
                ValueError,
                "quantile",
            ),
            Bad(
                "batch",
                lambda: attribkit.saliency_grabcut(torch.cat([IMG, IMG]), SAL),
                ValueError,
                "one image",
            ),
            Bad("list", lambda: attribkit.saliency_grabcut(IMG, SAL.tolist()), TypeError, "NumPy"),
            Bad(
                "nan-quantile",
                lambda: attribkit.saliency_grabcut(IMG, SAL, float("nan")),
                ValueError,
                "finite",
            ),
        ],
        valid=[
            Valid(
                "numpy-map",
                lambda: attribkit.saliency_grabcut(IMG, SAL.numpy()),
                lambda mask: None if bool(mask[16, 16]) else pytest.fail("no foreground"),
            )
        ],
    ),
    Row(
        "attr.LayerChannels",
        bad=[
            Bad(
                "reduce",
                lambda: attr.LayerChannels(_tiny(), "relu6", reduce="median"),
                ValueError,
                "reduce",
            ),
            Bad(
                "unknown-layer",
                lambda: attr.LayerChannels(_tiny(), "relu_6"),
                ValueError,
                "did you mean",
            ),
            Bad("layer-int", lambda: attr.LayerChannels(_tiny(), 5), TypeError, "dotted name"),
            Bad(
                "non-spatial",
                lambda: attr.LayerChannels(_tiny(), "fc")(X),
                ValueError,
                "not N×C×H×W",
            ),
            Bad("model", lambda: attr.LayerChannels(lambda t: t, "0"), TypeError, "nn.Module"),
            Bad("input", lambda: attr.LayerChannels(_tiny(), "relu6")([X]), TypeError, "tensor"),
        ],
        valid=[
            Valid("mean", lambda: attr.LayerChannels(_tiny(), "relu6", "mean")(X), _shape((2, 6)))
        ],
    ),
    Row(
        "attr.count_occlusions",
        bad=[
            Bad(
                "window-big",
                lambda: attr.count_occlusions((3, 8, 8), (3, 9, 9), 1),
                ValueError,
                "larger",
            ),
            Bad(
                "stride-0",
                lambda: attr.count_occlusions((3, 8, 8), (3, 4, 4), 0),
                ValueError,
                "positive",
            ),
            Bad(
                "window-negative",
                lambda: attr.count_occlusions((3, 8, 8), (3, -4, 4), 1),
                ValueError,
                "positive",
            ),
            Bad(
                "rank",
                lambda: attr.count_occlusions((3, 8, 8), (4, 4), 1),
                ValueError,
                "one entry per input dimension",
            ),
            Bad(
                "float-stride",
                lambda: attr.count_occlusions((3, 8, 8), (3, 4, 4), (1, 1.5, 1)),
                TypeError,
                "tuple of ints",
            ),
        ],
        valid=[
            Valid(
                "uneven",
                lambda: attr.count_occlusions((10,), (4,), None),
                lambda n: None if n == 7 else pytest.fail(str(n)),
            )
        ],
    ),
    Row(
        "attr.last_conv_layer",
        bad=[
            Bad(
                "no-conv", lambda: attr.last_conv_layer(nn.Linear(2, 2)), ValueError, "no nn.Conv2d"
            ),
            Bad("function", lambda: attr.last_conv_layer(lambda t: t), TypeError, "nn.Module"),
            Bad("none", lambda: attr.last_conv_layer(None), TypeError, "nn.Module"),
            Bad("name", lambda: attr.last_conv_layer("resnet18"), TypeError, "nn.Module"),
            Bad(
                "conv1d-only",
                lambda: attr.last_conv_layer(nn.Conv1d(2, 2, 1)),
                ValueError,
                "no nn.Conv2d",
            ),
        ],
        valid=[
            Valid(
                "nested",
                lambda: attr.last_conv_layer(
                    nn.Sequential(nn.Sequential(nn.Conv2d(3, 2, 1)), nn.ReLU())
                ),
                lambda n: None if n == "0.0" else pytest.fail(n),
            )
        ],
    ),
    Row(
        "attr.unguidable_modules",
        bad=[
            Bad("none", lambda: attr.unguidable_modules(None), TypeError, "nn.Module"),
            Bad("list", lambda: attr.unguidable_modules([nn.GELU()]), TypeError, "nn.Sequential"),
            Bad("function", lambda: attr.unguidable_modules(F.gelu), TypeError, "nn.Module"),
            Bad("tensor", lambda: attr.unguidable_modules(X), TypeError, "nn.Module"),
            Bad("string", lambda: attr.unguidable_modules("gelu"), TypeError, "nn.Module"),
        ],
        valid=[
            Valid(
                "gates-only",
                lambda: attr.unguidable_modules(
                    nn.Sequential(nn.Sigmoid(), nn.Tanh(), nn.Softmax(-1))
                ),
                lambda n: None if n == [] else pytest.fail(str(n)),
            )
        ],
    ),
    Row(
        "attr.DataLoaderAttribution",
        bad=[
            Bad(
                "saliency",
                lambda: attr.DataLoaderAttribution(attr.Saliency(_tiny())),
                TypeError,
                "supports FeatureAblation",
            ),
            Bad(
                "occlusion",
                lambda: attr.DataLoaderAttribution(attr.Occlusion(_tiny())),
                TypeError,
                "supports FeatureAblation",
            ),
            Bad(
                "permutation",
                lambda: attr.DataLoaderAttribution(attr.FeaturePermutation(_tiny())),
                TypeError,
                "supports FeatureAblation",
            ),
            Bad(
                "model",
                lambda: attr.DataLoaderAttribution(_tiny()),
                TypeError,
                "supports FeatureAblation",
            ),
            Bad(
                "none",
                lambda: attr.DataLoaderAttribution(None),
                TypeError,
                "supports FeatureAblation",
            ),
        ],
        valid=[
            Valid(
                "our-feature-ablation",
                lambda: attr.DataLoaderAttribution(attr.FeatureAblation(_tiny())).attribute(
                    DataLoader(TensorDataset(X), batch_size=1),
                    feature_mask=torch.zeros(1, 3, 8, 8, dtype=torch.long),
                ),
            )
        ],
    ),
    Row(
        "attr.CheckedAttribution",
        bad=[
            Bad(
                "eval-mode-str",
                lambda: attr.Saliency(_tiny(), eval_mode="no"),
                TypeError,
                "eval_mode",
            ),
            Bad(
                "eval-mode-none",
                lambda: attr.IntegratedGradients(_tiny(), eval_mode=None),
                TypeError,
                "eval_mode",
            ),
            Bad(
                "unknown-keyword",
                lambda: attr.Saliency(_tiny(), model=1),
                TypeError,
                "unexpected keyword",
            ),
            Bad(
                "too-many",
                lambda: attr.InputXGradient(_tiny(), 1, 2),
                TypeError,
                "too many positional",
            ),
            Bad(
                "layer-by-name-of-function",
                lambda: attr.LayerConductance(lambda t: _tiny()(t), "conv2"),
                TypeError,
                "nn.Module",
            ),
        ],
        valid=[
            Valid(
                "eval-mode-false",
                lambda: attr.Saliency(_tiny(), eval_mode=False).attribute(X, target=0),
                _shape((2, 3, 8, 8)),
            )
        ],
    ),
]

BAD, VALID = parametrize_rows(ROWS)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("case", BAD)
def test_bad_input(case: Bad) -> None:
    check_bad(case)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("case", VALID)
def test_valid_odd_input(case: Valid) -> None:
    check_valid(case)


def test_every_attribution_name_has_a_row() -> None:
    """attribkit's own names in attribkit.attr (Captum's re-exported objects are Captum's)."""
    ours = {
        n
        for n in attr.__all__
        if getattr(getattr(attr, n), "__module__", "").startswith("attribkit.")
    }
    expected = {n if n in attribkit.__all__ else f"attr.{n}" for n in ours}
    assert expected == {r.name for r in ROWS}
