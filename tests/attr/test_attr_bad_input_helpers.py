"""Bad-input rows for the attribution helpers: the lecture's maps, ``attr.*`` utilities,
``DataLoaderAttribution`` and the constructor keywords every class shares."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from badinput import Bad, Row, Valid, check_bad, check_valid, parametrize_rows
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).parent))  # attr_nets, also when the table check loads us
from attr_nets import TinyNet, finite_of_shape, rand  # noqa: E402

import attribkit  # noqa: E402
from attribkit import attr  # noqa: E402

X = rand(2, 3, 8, 8, seed=1)
NAN = torch.full((2, 3, 8, 8), float("nan"))
LONG = torch.zeros(2, 3, 8, 8, dtype=torch.long)
FLAT_NET = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(72, 2))


def _square() -> tuple[torch.Tensor, torch.Tensor]:
    img = torch.full((1, 3, 32, 32), 0.2)
    img[:, 0, 8:24, 8:24] = 0.9
    sal = torch.zeros(32, 32)
    sal[10:22, 10:22] = 1.0
    return img, sal


IMG, SAL = _square()

ROWS: list[Row] = [
    Row(
        "saliency_map",
        bad=[
            Bad("3-d", lambda: attribkit.saliency_map(TinyNet(), X[0], 0), ValueError, "unsqueeze"),
            Bad(
                "int",
                lambda: attribkit.saliency_map(TinyNet(), LONG, 0),
                TypeError,
                "floating-point",
            ),
            Bad("nan", lambda: attribkit.saliency_map(TinyNet(), NAN, 0), ValueError, "NaN"),
            Bad("list", lambda: attribkit.saliency_map(TinyNet(), [X], 0), TypeError, "Tensor"),
            Bad(
                "target",
                lambda: attribkit.saliency_map(TinyNet(), X, 5),
                ValueError,
                "out of range",
            ),
        ],
        valid=[
            Valid(
                "float64",
                lambda: attribkit.saliency_map(TinyNet().double(), X.double(), 1),
                finite_of_shape((2, 1, 8, 8)),
            )
        ],
    ),
    Row(
        "gradcam_map",
        bad=[
            Bad("3-d", lambda: attribkit.gradcam_map(TinyNet(), X[0], 0), ValueError, "unsqueeze"),
            Bad(
                "non-spatial-layer",
                lambda: attribkit.gradcam_map(FLAT_NET, X, 0, layer="3"),
                ValueError,
                "no N×C×H×W output",
            ),
            Bad(
                "unknown-layer",
                lambda: attribkit.gradcam_map(TinyNet(), X, 0, layer="conv_2"),
                ValueError,
                "did you mean 'conv2'",
            ),
            Bad(
                "no-conv",
                lambda: attribkit.gradcam_map(nn.Sequential(nn.Flatten()), X, 0),
                ValueError,
                "no nn.Conv2d",
            ),
            Bad("target", lambda: attribkit.gradcam_map(TinyNet(), X, -1), ValueError, "negative"),
        ],
        valid=[
            Valid(
                "layer-module",
                lambda: (lambda m: attribkit.gradcam_map(m, X, [0, 1], layer=m.conv2))(TinyNet()),
                finite_of_shape((2, 1, 8, 8)),
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
                lambda: attr.LayerChannels(TinyNet(), "relu6", reduce="median"),
                ValueError,
                "reduce",
            ),
            Bad(
                "unknown-layer",
                lambda: attr.LayerChannels(TinyNet(), "relu_6"),
                ValueError,
                "did you mean",
            ),
            Bad("layer-int", lambda: attr.LayerChannels(TinyNet(), 5), TypeError, "dotted name"),
            Bad(
                "non-spatial",
                lambda: attr.LayerChannels(TinyNet(), "fc")(X),
                ValueError,
                "not N×C×H×W",
            ),
            Bad("model", lambda: attr.LayerChannels(lambda t: t, "0"), TypeError, "nn.Module"),
            Bad("input", lambda: attr.LayerChannels(TinyNet(), "relu6")([X]), TypeError, "tensor"),
        ],
        valid=[
            Valid(
                "mean",
                lambda: attr.LayerChannels(TinyNet(), "relu6", "mean")(X),
                finite_of_shape((2, 6)),
            )
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
                lambda: attr.DataLoaderAttribution(attr.Saliency(TinyNet())),
                TypeError,
                "supports FeatureAblation",
            ),
            Bad(
                "occlusion",
                lambda: attr.DataLoaderAttribution(attr.Occlusion(TinyNet())),
                TypeError,
                "supports FeatureAblation",
            ),
            Bad(
                "permutation",
                lambda: attr.DataLoaderAttribution(attr.FeaturePermutation(TinyNet())),
                TypeError,
                "supports FeatureAblation",
            ),
            Bad(
                "model",
                lambda: attr.DataLoaderAttribution(TinyNet()),
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
                lambda: attr.DataLoaderAttribution(attr.FeatureAblation(TinyNet())).attribute(
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
                lambda: attr.Saliency(TinyNet(), eval_mode="no"),
                TypeError,
                "eval_mode",
            ),
            Bad(
                "eval-mode-none",
                lambda: attr.IntegratedGradients(TinyNet(), eval_mode=None),
                TypeError,
                "eval_mode",
            ),
            Bad(
                "unknown-keyword",
                lambda: attr.Saliency(TinyNet(), model=1),
                TypeError,
                "unexpected keyword",
            ),
            Bad(
                "too-many",
                lambda: attr.InputXGradient(TinyNet(), 1, 2),
                TypeError,
                "too many positional",
            ),
            Bad(
                "layer-by-name-of-function",
                lambda: attr.LayerConductance(lambda t: TinyNet()(t), "conv2"),
                TypeError,
                "nn.Module",
            ),
        ],
        valid=[
            Valid(
                "eval-mode-false",
                lambda: attr.Saliency(TinyNet(), eval_mode=False).attribute(X, target=0),
                finite_of_shape((2, 3, 8, 8)),
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
