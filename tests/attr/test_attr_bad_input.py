"""Bad-input rows for every attribution name: attribkit's top-level ones and ``attr.*`` extras.

Rows written by hand cover each name's own options; the classes of the shared table
(``attr_nets.CASES``) also get generated rows with the bad inputs every attribution refuses.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from badinput import Bad, Row, Valid, check_bad, check_valid, parametrize_rows
from captum.attr import GradientAttribution, LayerAttribution
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))  # attr_nets, also when the table check loads us
from attr_nets import CASES, StateNet, TinyNet, finite_of_shape, rand  # noqa: E402

import attribkit  # noqa: E402
from attribkit import attr  # noqa: E402

X = rand(2, 3, 8, 8, seed=1)
NAN = torch.full((2, 3, 8, 8), float("nan"))
LONG = torch.zeros(2, 3, 8, 8, dtype=torch.long)


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


ROWS: list[Row] = [_generic_row(c) for c in CASES if c.name != "Occlusion-lecture"] + [
    Row(
        "Saliency",
        bad=[
            Bad(
                "int",
                lambda: attribkit.Saliency(TinyNet()).attribute(LONG, target=0),
                TypeError,
                "x.float()",
            ),
            Bad(
                "target-float",
                lambda: attribkit.Saliency(TinyNet()).attribute(X, target=0.5),
                TypeError,
                "int",
            ),
            Bad(
                "target-bool",
                lambda: attribkit.Saliency(TinyNet()).attribute(X, target=True),
                TypeError,
                "bool",
            ),
            Bad(
                "target-length",
                lambda: attribkit.Saliency(TinyNet()).attribute(X, target=[0]),
                ValueError,
                "1 entries but the batch has 2",
            ),
            Bad(
                "tuple-target-length",
                lambda: attribkit.Saliency(TinyNet()).attribute(X, target=(0, 1)),
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
                lambda: attribkit.Saliency(TinyNet()).attribute(X, 1),
                finite_of_shape((2, 3, 8, 8)),
            ),
        ],
    ),
    Row(
        "Occlusion",
        bad=[
            Bad(
                "stride-0",
                lambda: attribkit.Occlusion(TinyNet()).attribute(X, 4, 0, target=0),
                ValueError,
                "positive",
            ),
            Bad(
                "stride-negative",
                lambda: attribkit.Occlusion(TinyNet()).attribute(X, 4, -2, target=0),
                ValueError,
                "positive",
            ),
            Bad(
                "window-negative",
                lambda: attribkit.Occlusion(TinyNet()).attribute(X, (3, -4, 4), target=0),
                ValueError,
                "positive",
            ),
            Bad(
                "window-rank",
                lambda: attribkit.Occlusion(TinyNet()).attribute(X, (4, 4), target=0),
                ValueError,
                "needs 3",
            ),
            Bad(
                "int-window-3d",
                lambda: attribkit.Occlusion(TinyNet()).attribute(X[0], 4, target=0),
                ValueError,
                "N×C×H×W",
            ),
            Bad(
                "baseline-name",
                lambda: attribkit.Occlusion(TinyNet()).attribute(X, 4, baselines="zero", target=0),
                ValueError,
                "'mean'",
            ),
            Bad(
                "memory-budget",
                lambda: attribkit.Occlusion(TinyNet(), memory_budget=0),
                ValueError,
                "memory_budget",
            ),
        ],
        valid=[
            Valid(
                "mean-probability",
                lambda: attribkit.Occlusion(TinyNet()).attribute(
                    X, 4, 4, "mean", 0, probability=True
                ),
                finite_of_shape((2, 3, 8, 8)),
            ),
            Valid(
                "sum-forward",
                lambda: attribkit.Occlusion(lambda t: TinyNet()(t).sum()).attribute(
                    X[:1], (3, 4, 4), 4
                ),
                finite_of_shape((1, 3, 8, 8)),
            ),
        ],
    ),
    Row(
        "NoiseTunnel",
        bad=[
            Bad(
                "samples-0",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(TinyNet())).attribute(
                    X, nt_samples=0, target=0
                ),
                ValueError,
                "nt_samples must be at least 1",
            ),
            Bad(
                "stdevs-nan",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(TinyNet())).attribute(
                    X, stdevs=float("nan"), target=0
                ),
                ValueError,
                "finite",
            ),
            Bad(
                "stdevs-negative",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(TinyNet())).attribute(
                    X, stdevs=-1.0, target=0
                ),
                ValueError,
                "at least 0",
            ),
            Bad(
                "batch-0",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(TinyNet())).attribute(
                    X, nt_samples_batch_size=0, target=0
                ),
                ValueError,
                "nt_samples_batch_size",
            ),
            Bad(
                "type",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(TinyNet())).attribute(
                    X, nt_type="smooth", target=0
                ),
                AssertionError,
                "smoothgrad",
            ),
            Bad(
                "not-a-method",
                lambda: attribkit.NoiseTunnel(TinyNet()),
                TypeError,
                "attribution method",
            ),
        ],
        valid=[
            Valid(
                "int-stdevs",
                lambda: attribkit.NoiseTunnel(attribkit.Saliency(TinyNet())).attribute(
                    X, nt_samples=2, stdevs=1, target=0
                ),
                finite_of_shape((2, 3, 8, 8)),
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
                finite_of_shape((2, 3)),
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
    """attribkit's own names in attribkit.attr (Captum's re-exported objects are Captum's), over
    this module's rows and those of ``test_attr_bad_input_helpers.py``."""
    import importlib.util

    path = Path(__file__).with_name("test_attr_bad_input_helpers.py")
    spec = importlib.util.spec_from_file_location("_attr_bad_input_helpers", path)
    assert spec is not None and spec.loader is not None
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    ours = {
        n
        for n in attr.__all__
        if getattr(getattr(attr, n), "__module__", "").startswith("attribkit.")
    }
    expected = {n if n in attribkit.__all__ else f"attr.{n}" for n in ours}
    assert expected == {r.name for r in ROWS + helpers.ROWS}
