"""Bad-input rows of the arbitrary-style (AdaIN) names.

Every row runs against ``attribkit.style.adain`` / ``arbitrary`` / ``arbitrary_loss`` /
``train_arbitrary`` directly; a row joins ``ROWS`` (what ``tests/test_bad_input_table.py``
counts, and which it requires to name exported names) as ``Name`` when it is in
``attribkit.__all__``, else as ``style.Name`` when it is in ``attribkit.style.__all__``. The
``stylize`` and ``load_shipped_model`` rows here add the arbitrary-style cases to those of
``test_faststyle_bad_input.py``.
"""

from __future__ import annotations

import math

import pytest
import torch
from badinput import Bad, Row, Valid, table_tests
from helpers.adain_nets import tiny_adain_net, tiny_train_kwargs
from torch import nn

import attribkit
import attribkit.style
from attribkit.style.adain import AdaIN, AdaINDecoder, FeatureStats, adain, feature_stats
from attribkit.style.arbitrary import AdaINStyleNet
from attribkit.style.arbitrary_loss import AdaINLoss, mean_std_loss
from attribkit.style.checkpoint import load_shipped_model
from attribkit.style.stylize import stylize
from attribkit.style.train_arbitrary import train_arbitrary

NET = tiny_adain_net()
X = torch.rand(1, 3, 20, 24)
S = torch.rand(1, 3, 16, 16)
F = torch.randn(2, 4, 6, 6)


def _call(content: object = X, style: object = S, **kw: object):  # noqa: ANN202 - a thunk
    return lambda: NET(content, style, **kw)


def _shape(expected: tuple[int, ...]):  # noqa: ANN202 - a check
    def check(out: torch.Tensor) -> None:
        assert tuple(out.shape) == expected

    return check


def _finite(out: object) -> None:
    values = out if isinstance(out, tuple) else (out,)
    assert all(bool(torch.isfinite(v).all()) for v in values)


def _train(content: object = None, **kw: object) -> object:
    """A one-step tiny training (the row's thunks change one argument)."""
    args = tiny_train_kwargs(16, **{"batch_size": 1, "steps": 1, "recon_steps": 0, **kw})
    imgs = [torch.rand(1, 3, 16, 16)] if content is None else content
    return train_arbitrary(imgs, [torch.rand(1, 3, 16, 16)], **args)  # type: ignore[arg-type]


_NAN = X.clone()
_NAN[0, 0, 0, 0] = math.nan
_TWO = torch.stack([torch.ones(20, 24), torch.zeros(20, 24)])

ALL_ROWS = [
    Row(
        "AdaINStyleNet",
        bad=[
            Bad("backbone not a module", lambda: AdaINStyleNet("net"), TypeError, "nn.Module"),
            Bad(
                "unknown layer",
                lambda: AdaINStyleNet(nn.Sequential(nn.Conv2d(3, 4, 3)), "conv9"),
                ValueError,
                "does not exist",
            ),
            Bad("negative pad", lambda: tiny_adain_net(pad=-1), ValueError, "pad"),
            Bad(
                "zero width",
                lambda: AdaINStyleNet(nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1)), "0", width=0),
                ValueError,
                "width",
            ),
            Bad("content not a tensor", _call(content=[[0.5]]), TypeError, "tensor"),
            Bad("content 3-D", _call(content=X[0]), ValueError, "4-D"),
            Bad("content int", _call(content=(X * 255).to(torch.uint8)), TypeError, "floating"),
            Bad("content NaN", _call(content=_NAN), ValueError, "NaN"),
            Bad("content out of range", _call(content=X * 2), ValueError, r"\[0, 1\]"),
            Bad(
                "content 4 channels",
                _call(content=torch.rand(1, 4, 20, 24)),
                ValueError,
                "channels",
            ),
            Bad(
                "content too small", _call(content=torch.rand(1, 3, 3, 24)), ValueError, "at least"
            ),
            Bad(
                "style batch mismatch",
                _call(content=torch.rand(2, 3, 20, 24), style=torch.rand(3, 3, 16, 16)),
                ValueError,
                "one per content",
            ),
            Bad("no style", _call(style=[]), ValueError, "at least one style"),
            Bad("alpha above 1", _call(alpha=1.5), ValueError, "alpha"),
            Bad("alpha NaN", _call(alpha=math.nan), ValueError, "alpha"),
            Bad("alpha a string", _call(alpha="0.5"), TypeError, "alpha"),
            Bad("weights count", _call(style=[S, S], weights=[1.0]), ValueError, "one per style"),
            Bad("weights sum", _call(style=[S, S], weights=[0.5, 0.6]), ValueError, "sum to 1"),
            Bad(
                "weights negative",
                _call(style=[S, S], weights=[1.5, -0.5]),
                ValueError,
                "non-negative",
            ),
            Bad(
                "weights and mask",
                _call(style=[S, S], weights=[0.5, 0.5], mask=_TWO),
                ValueError,
                "not both",
            ),
            Bad("mask size", _call(mask=torch.ones(10, 12)), ValueError, "content's size"),
            Bad("mask range", _call(mask=torch.full((20, 24), 2.0)), ValueError, r"\[0, 1\]"),
            Bad(
                "mask sums above 1",
                _call(style=[S, S], mask=torch.ones(2, 20, 24)),
                ValueError,
                "at most 1",
            ),
            Bad("mask int", _call(mask=torch.ones(20, 24, dtype=torch.long)), TypeError, "float"),
            Bad("unknown colour mode", _call(preserve_color="yes"), ValueError, "preserve_color"),
            Bad(
                "statistics of another layer",
                _call(style=FeatureStats(torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1))),
                ValueError,
                "style_stats",
            ),
            Bad(
                "colours from statistics",
                _call(style=NET.style_stats(S), preserve_color="linear"),
                ValueError,
                "style images",
            ),
        ],
        valid=[
            Valid(
                "grayscale content, odd size",
                _call(content=torch.rand(1, 1, 17, 23)),
                _shape((1, 3, 17, 23)),
            ),
            Valid("minimum size", _call(content=torch.rand(1, 3, 4, 4)), _shape((1, 3, 4, 4))),
            Valid("alpha 0 as an int", _call(alpha=0), _shape((1, 3, 20, 24))),
            Valid(
                "per-image mixes",
                _call(
                    content=torch.rand(2, 3, 20, 24),
                    style=[S, S],
                    weights=torch.tensor([[1.0, 0.0], [0.25, 0.75]]),
                ),
                _shape((2, 3, 20, 24)),
            ),
            Valid(
                "soft mask summing below 1",
                _call(style=[S, S], mask=0.4 * _TWO + 0.1),
                _shape((1, 3, 20, 24)),
            ),
        ],
    ),
    Row(
        "AdaINLoss",
        bad=[
            Bad(
                "net not an AdaINStyleNet",
                lambda: AdaINLoss(nn.Conv2d(3, 3, 1)),
                TypeError,
                "AdaINStyleNet",
            ),
            Bad("layers a string", lambda: AdaINLoss(NET, "conv1"), TypeError, "sequence"),
            Bad("no layers", lambda: AdaINLoss(NET, []), ValueError, "at least one"),
            Bad("unknown layer", lambda: AdaINLoss(NET, ["conv7"]), ValueError, "does not exist"),
            Bad("no default layers", lambda: AdaINLoss(NET), ValueError, "pass the layers"),
            Bad(
                "negative weight",
                lambda: AdaINLoss(NET, ["conv1"], style_weight=-1),
                ValueError,
                "non-negative",
            ),
            Bad(
                "NaN weight",
                lambda: AdaINLoss(NET, ["conv1"], content_weight=math.nan),
                ValueError,
                "finite",
            ),
            Bad(
                "layer_fns on the encoder layer",
                lambda: AdaINLoss(NET, ["relu2"], layer_fns={"relu2": torch.relu}),
                ValueError,
                "encoder layer",
            ),
            Bad(
                "layer_fns for another layer",
                lambda: AdaINLoss(NET, ["conv1"], layer_fns={"relu2": torch.relu}),
                ValueError,
                "not style layers",
            ),
            Bad("not a run result", lambda: AdaINLoss(NET, ["conv1"])(X, S), TypeError, "net.run"),
            Bad(
                "statistics missing",
                lambda: AdaINLoss(NET, ["conv1", "relu2"])(NET.run(X, S), {}),
                ValueError,
                "missing",
            ),
            Bad(
                "style NaN",
                lambda: AdaINLoss(NET, ["conv1"])(NET.run(X, S), S * math.nan),
                ValueError,
                "NaN",
            ),
        ],
        valid=[
            Valid(
                "cached statistics, style weight 0",
                lambda: (lambda loss: loss(NET.run(X, S), loss.style_stats(S)))(
                    AdaINLoss(NET, ["conv1"], style_weight=0)
                ),
                lambda t: (
                    None if float(t.style.detach().abs().max()) == 0 else pytest.fail("style")
                ),
            ),
            Valid(
                "one style for a batch",
                lambda: AdaINLoss(NET, ["relu2"])(NET.run(torch.rand(2, 3, 20, 24), S), S),
                lambda t: _shape((2,))(t.total),
            ),
        ],
    ),
    Row(
        "adain",
        bad=[
            Bad("content not a tensor", lambda: adain([1.0], F), TypeError, "tensor"),
            Bad("content 3-D", lambda: adain(F[0], F), ValueError, "4-D"),
            Bad("content int", lambda: adain(F.long(), F), TypeError, "floating"),
            Bad("channels differ", lambda: adain(F, F[:, :3]), ValueError, "channels"),
            Bad("style batch", lambda: adain(F, torch.randn(3, 4, 6, 6)), ValueError, "one per"),
            Bad("negative eps", lambda: adain(F, F, eps=-1.0), ValueError, "eps"),
        ],
        valid=[
            Valid(
                "statistics instead of features",
                lambda: adain(F, (torch.zeros(1, 4, 1, 1), torch.ones(1, 4, 1, 1))),
                _finite,
            ),
            Valid("constant content", lambda: adain(torch.ones(1, 4, 3, 3), F[:1]), _finite),
        ],
    ),
    Row(
        "AdaIN",
        bad=[
            Bad("negative eps", lambda: AdaIN(-1e-5), ValueError, "eps"),
            Bad("NaN eps", lambda: AdaIN(math.nan), ValueError, "finite"),
            Bad("string eps", lambda: AdaIN("small"), ValueError, "eps"),
            Bad("content 2-D", lambda: AdaIN()(F[0, 0], F), ValueError, "4-D"),
            Bad("style not a tensor", lambda: AdaIN()(F, "style"), TypeError, "tensor"),
        ],
        valid=[Valid("eps 0", lambda: AdaIN(0)(F, F + 1), _finite)],
    ),
    Row(
        "AdaINDecoder",
        bad=[
            Bad("zero channels", lambda: AdaINDecoder(0, 8), ValueError, "in_channels"),
            Bad("stride not a power of 2", lambda: AdaINDecoder(4, 6), ValueError, "power of 2"),
            Bad("width a bool", lambda: AdaINDecoder(4, 8, width=True), ValueError, "width"),
            Bad("no convs", lambda: AdaINDecoder(4, 8, convs=0), ValueError, "convs"),
            Bad(
                "negative max_width",
                lambda: AdaINDecoder(4, 8, max_width=-1),
                ValueError,
                "max_width",
            ),
        ],
        valid=[Valid("stride 1", lambda: AdaINDecoder(4, 1, width=2)(F), _shape((2, 3, 6, 6)))],
    ),
    Row(
        "feature_stats",
        bad=[
            Bad("not a tensor", lambda: feature_stats(1.0), TypeError, "tensor"),
            Bad("3-D", lambda: feature_stats(F[0]), ValueError, "4-D"),
            Bad("int", lambda: feature_stats(F.long()), TypeError, "floating"),
            Bad(
                "mask channels",
                lambda: feature_stats(F, torch.ones(2, 2, 6, 6)),
                ValueError,
                "one weight per position",
            ),
            Bad(
                "mask size",
                lambda: feature_stats(F, torch.ones(2, 1, 3, 3)),
                ValueError,
                "mask must be",
            ),
            Bad("NaN eps", lambda: feature_stats(F, eps=math.nan), ValueError, "eps"),
        ],
        valid=[Valid("one position", lambda: feature_stats(torch.randn(1, 2, 1, 1)), _finite)],
    ),
    Row(
        "mean_std_loss",
        bad=[
            Bad("not a tensor", lambda: mean_std_loss(None, feature_stats(F)), TypeError, "tensor"),
            Bad("3-D", lambda: mean_std_loss(F[0], feature_stats(F)), ValueError, "4-D"),
            Bad("int", lambda: mean_std_loss(F.long(), feature_stats(F)), TypeError, "floating"),
            Bad(
                "other layer",
                lambda: mean_std_loss(F, feature_stats(F[:, :2])),
                ValueError,
                "another layer",
            ),
            Bad("target not a pair", lambda: mean_std_loss(F, F), ValueError, "mean, std"),
        ],
        valid=[
            Valid(
                "zero target",
                lambda: mean_std_loss(F, (torch.zeros(1, 4, 1, 1), torch.zeros(1, 4, 1, 1))),
                _finite,
            )
        ],
    ),
    Row(
        "train_arbitrary",
        bad=[
            Bad("zero steps", lambda: _train(steps=0), ValueError, "steps"),
            Bad("NaN lr", lambda: _train(lr=math.nan), ValueError, "lr"),
            Bad(
                "negative style weight",
                lambda: _train(style_weight=-1.0),
                ValueError,
                "style_weight",
            ),
            Bad("zero crop", lambda: _train(crop=0), ValueError, "crop"),
            Bad("negative warm-up", lambda: _train(recon_steps=-1), ValueError, "recon_steps"),
            Bad(
                "model not AdaIN",
                lambda: _train(model=nn.Conv2d(3, 3, 1)),
                TypeError,
                "AdaINStyleNet",
            ),
            Bad("backbone not a module", lambda: _train(backbone="net"), TypeError, "nn.Module"),
            Bad("empty content", lambda: _train(content=[]), ValueError, "empty"),
        ],
        valid=[Valid("warm-up longer than the run", lambda: _train(steps=1, recon_steps=5))],
    ),
    Row(
        "stylize",
        bad=[
            Bad("no style image", lambda: stylize(NET, X), ValueError, "needs style="),
            Bad(
                "missing style file",
                lambda: stylize(NET, X, style="/no/such.jpg"),
                FileNotFoundError,
                "no image",
            ),
            Bad("style NaN", lambda: stylize(NET, X, style=_NAN), ValueError, "NaN"),
            Bad("style a number", lambda: stylize(NET, X, style=[3]), TypeError, "path"),  # type: ignore[list-item]
            Bad("alpha 2", lambda: stylize(NET, X, style=S, alpha=2.0), ValueError, "alpha"),
            Bad(
                "weights not summing to 1",
                lambda: stylize(NET, X, [0.2, 0.2], style=[S, S]),
                ValueError,
                "sum to 1",
            ),
            Bad(
                "weights a dict", lambda: stylize(NET, X, {"a": 1.0}, style=S), TypeError, "blends"
            ),
        ],
        valid=[
            Valid(
                "two styles, weights normalized",
                lambda: stylize(NET, X, [1, 3], style=[S, S], normalize_weights=True),
            ),
            Valid(
                "colour kept, list of odd sizes",
                lambda: stylize(NET, [X, X[..., :9, :13]], style=S, preserve_color=True),
            ),
        ],
    ),
    Row(
        "load_shipped_model",
        bad=[
            Bad(
                "unknown name",
                lambda: load_shipped_model("adain"),
                ValueError,
                "no shipped style model",
            ),  # type: ignore[call-overload]
            Bad("a device as the name", lambda: load_shipped_model("cpu"), ValueError, "device="),  # type: ignore[call-overload]
            Bad("name a number", lambda: load_shipped_model(3), ValueError, "choose one of"),  # type: ignore[call-overload]
            Bad(
                "bad device",
                lambda: load_shipped_model("arbitrary", device="gpu"),
                ValueError,
                "not a device",
            ),
            Bad(
                "meta device",
                lambda: load_shipped_model("arbitrary", device="meta"),
                ValueError,
                "holds no data",
            ),
        ],
        valid=[
            Valid(
                "arbitrary on torch.device",
                lambda: load_shipped_model("arbitrary", torch.device("cpu")),
            )
        ],
    ),
]


def _exported_as(name: str) -> str | None:
    if name in attribkit.__all__:
        return name
    if name in attribkit.style.__all__:
        return f"style.{name}"
    return None


#: The rows the completeness table counts: those of names already exported.
ROWS = [Row(exported, r.bad, r.valid) for r in ALL_ROWS if (exported := _exported_as(r.name))]
test_bad_input, test_valid_odd_input = table_tests(ALL_ROWS)
