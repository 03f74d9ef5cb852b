"""Bad-input rows for looking inside (``attribkit.layers``): hooks, features, filters,
activation maps, receptive fields, top-k patches and the state helpers."""

from __future__ import annotations

import torch
from badinput import Bad, Row, Valid, table_tests
from helpers.tiny import bn_dropout_net, conv_net, images, with_nan
from torch import nn

from attribkit import (
    MaxActivatingPatches,
    activation_grid,
    capture,
    extract_features,
    filter_grid,
    forward_to,
    frozen,
    preserve_state,
    receptive_field,
    resolve_layer,
)
from attribkit.layers import (
    ReceptiveField,
    TopK,
    analytic_receptive_field,
    assert_no_hooks,
    batch_topk,
    count_hooks,
    crop_box,
    empirical_receptive_field,
    first_conv,
    iter_batches,
    layer_name,
    merge_topk,
    pool_features,
    random_crops,
)

NET = conv_net()
X = images(4)


def _enter(cm: object) -> None:
    with cm:  # type: ignore[attr-defined]
        pass


def _scan(**kw: object) -> object:
    return MaxActivatingPatches(NET, "1", show_progress=False, **kw)  # type: ignore[arg-type]


def _topk() -> TopK:
    return TopK.empty(2, 3)


ROWS = [
    Row(
        "resolve_layer",
        bad=[
            Bad("unknown", lambda: resolve_layer(NET, "9"), ValueError, "does not exist"),
            Bad("typo hint", lambda: resolve_layer(NET, "00"), ValueError, "did you mean"),
            Bad("int", lambda: resolve_layer(NET, 1), TypeError, "dotted name or an nn.Module"),  # type: ignore[arg-type]
            Bad("foreign module", lambda: resolve_layer(NET, nn.ReLU()), ValueError, "not part"),
            Bad("root name", lambda: resolve_layer(NET, ""), ValueError, "does not exist"),
            Bad("not a model", lambda: resolve_layer("net", "0"), TypeError, "nn.Module"),  # type: ignore[arg-type]
        ],
        valid=[Valid("module itself", lambda: resolve_layer(NET, NET[2]))],
    ),
    Row(
        "capture",
        bad=[
            Bad("int layers", lambda: _enter(capture(NET, 5)), TypeError, "dotted layer name"),  # type: ignore[arg-type]
            Bad("None", lambda: _enter(capture(NET, None)), TypeError, "dotted layer name"),  # type: ignore[arg-type]
            Bad("list of ints", lambda: _enter(capture(NET, [0, 1])), TypeError, "dotted layer"),  # type: ignore[list-item]
            Bad("unknown", lambda: _enter(capture(NET, ["nope"])), ValueError, "does not exist"),
            Bad("not a model", lambda: _enter(capture(None, "0")), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("bytes", lambda: _enter(capture(NET, b"0")), TypeError, "dotted layer name"),  # type: ignore[arg-type]
        ],
        valid=[
            Valid("tuple of names", lambda: _enter(capture(NET, ("0", "1")))),
            Valid("empty list captures nothing", lambda: _enter(capture(NET, []))),
        ],
    ),
    Row(
        "forward_to",
        bad=[
            Bad("int layers", lambda: forward_to(NET, X, 3), TypeError, "dotted layer name"),  # type: ignore[arg-type]
            Bad("no layers", lambda: forward_to(NET, X, []), ValueError, "at least one layer"),
            Bad("unknown", lambda: forward_to(NET, X, "zz"), ValueError, "does not exist"),
            Bad("set of names", lambda: forward_to(NET, X, {"0"}), TypeError, "dotted layer"),  # type: ignore[arg-type]
            Bad("not a model", lambda: forward_to(3, X, "0"), TypeError, "nn.Module"),  # type: ignore[arg-type]
        ],
        valid=[Valid("module ref", lambda: forward_to(NET, X, [NET[0]]))],
    ),
    Row(
        "extract_features",
        bad=[
            Bad(
                "batch 0",
                lambda: extract_features(NET, X, "1", batch_size=0),
                ValueError,
                "batch_size must be a positive integer",
            ),
            Bad(
                "3-D image",
                lambda: extract_features(NET, X[0], "1"),
                ValueError,
                "add a batch dimension",
            ),
            Bad(
                "NaN",
                lambda: extract_features(NET, with_nan(X), "1", show_progress=False),
                ValueError,
                "NaN",
            ),
            Bad("pool", lambda: extract_features(NET, X, "1", pool="mean"), ValueError, "pool"),
            Bad("int layer", lambda: extract_features(NET, X, 1), TypeError, "dotted layer name"),  # type: ignore[arg-type]
            Bad("no layers", lambda: extract_features(NET, X, []), ValueError, "at least one"),
            Bad(
                "empty",
                lambda: extract_features(NET, X[:0], "1", show_progress=False),
                ValueError,
                "empty",
            ),
            Bad(
                "string data",
                lambda: extract_features(NET, "data", "1"),
                TypeError,
                "tensor, a DataLoader",
            ),
            Bad(
                "3-D batches in a list",
                lambda: extract_features(NET, [X[0]], "1", show_progress=False),
                ValueError,
                "add a batch dimension",
            ),
        ],
        valid=[
            Valid(
                "list of (batch, label)",
                lambda: extract_features(NET, [(X, 0)], "1", show_progress=False),
            ),
            Valid(
                "train-mode model",
                lambda: extract_features(bn_dropout_net(), X, "1", show_progress=False),
            ),
        ],
    ),
    Row(
        "MaxActivatingPatches",
        bad=[
            Bad("k 0", lambda: _scan(k=0), ValueError, "k must be a positive integer"),
            Bad("k float", lambda: _scan(k=2.5), ValueError, "k must be a positive integer"),
            Bad("batch 0", lambda: _scan(batch_size=0), ValueError, "batch_size"),
            Bad("unknown layer", lambda: MaxActivatingPatches(NET, "x"), ValueError, "does not"),
            Bad("k > data", lambda: _scan(k=9).scan(X), ValueError, "larger than the data set"),  # type: ignore[attr-defined]
            Bad("NaN", lambda: _scan(k=2).scan(with_nan(X)), ValueError, "NaN"),  # type: ignore[attr-defined]
            Bad(
                "flat layer",
                lambda: MaxActivatingPatches(NET, "5", k=1).scan(X),
                ValueError,
                "spatial",
            ),  # type: ignore[attr-defined]
            Bad("3-D batch", lambda: _scan(k=1).update(X[0]), ValueError, "N×C×H×W"),  # type: ignore[attr-defined]
        ],
        valid=[Valid("k equals data", lambda: _scan(k=4).scan(X))],  # type: ignore[attr-defined]
    ),
    Row(
        "activation_grid",
        bad=[
            Bad("batch", lambda: activation_grid(NET, "1", X), ValueError, "one image"),
            Bad(
                "channel range",
                lambda: activation_grid(NET, "1", X[:1], [7]),
                ValueError,
                "out of range",
            ),
            Bad("flat layer", lambda: activation_grid(NET, "5", X[:1]), ValueError, "spatial"),
            Bad("NaN", lambda: activation_grid(NET, "1", with_nan(X[:1])), ValueError, "NaN"),
            Bad(
                "padding",
                lambda: activation_grid(NET, "1", X[:1], padding=-1),
                ValueError,
                "padding",
            ),
            Bad("nrow 0", lambda: activation_grid(NET, "1", X[:1], nrow=0), ValueError, "nrow"),
            Bad("size 0", lambda: activation_grid(NET, "1", X[:1], size=0), ValueError, "size"),
            Bad(
                "normalize",
                lambda: activation_grid(NET, "1", X[:1], normalize="x"),
                ValueError,
                "normalize",
            ),
        ],
        valid=[Valid("3-D image", lambda: activation_grid(NET, "1", X[0], size=4))],
    ),
    Row(
        "filter_grid",
        bad=[
            Bad("no conv", lambda: filter_grid(nn.Linear(2, 2)), ValueError, "no nn.Conv2d"),
            Bad("not conv layer", lambda: filter_grid(NET, "1"), TypeError, "not an nn.Conv2d"),
            Bad("2-D weight", lambda: filter_grid(torch.zeros(3, 3)), ValueError, "4-D"),
            Bad(
                "NaN weight",
                lambda: filter_grid(with_nan(torch.rand(2, 3, 3, 3))),
                ValueError,
                "NaN",
            ),
            Bad("padding", lambda: filter_grid(NET, padding=-1), ValueError, "padding"),
            Bad("nrow 0", lambda: filter_grid(NET, nrow=0), ValueError, "nrow"),
            Bad("rgb on gray", lambda: filter_grid(NET, "2", mode="rgb"), ValueError, "3 input"),
        ],
        valid=[Valid("depthwise", lambda: filter_grid(nn.Conv2d(4, 4, 3, groups=4)))],
    ),
    Row(
        "receptive_field",
        bad=[
            Bad("size 0", lambda: receptive_field(NET, "1", 0), ValueError, "input_size"),
            Bad("size bool", lambda: receptive_field(NET, "1", True), ValueError, "input_size"),  # type: ignore[arg-type]
            Bad("method", lambda: receptive_field(NET, "1", 8, method="x"), ValueError, "method"),
            Bad("flat layer", lambda: receptive_field(NET, "5", 8), ValueError, "spatial"),
            Bad("unknown", lambda: receptive_field(NET, "q", 8), ValueError, "does not exist"),
            Bad("size str", lambda: receptive_field(NET, "1", "8"), ValueError, "input_size"),  # type: ignore[arg-type]
        ],
        valid=[Valid("(H, W) pair", lambda: receptive_field(NET, "2", (8, 12)))],
    ),
    Row(
        "frozen",
        bad=[
            Bad("int", lambda: _enter(frozen(5)), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("None", lambda: _enter(frozen(None)), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("tensor", lambda: _enter(frozen(X)), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("list of modules", lambda: _enter(frozen([NET])), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad(
                "eval_mode str", lambda: _enter(frozen(NET, eval_mode="no")), TypeError, "eval_mode"
            ),  # type: ignore[arg-type]
        ],
        valid=[Valid("module without parameters", lambda: _enter(frozen(nn.ReLU())))],
    ),
    Row(
        "preserve_state",
        bad=[
            Bad("int", lambda: _enter(preserve_state(5)), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("None", lambda: _enter(preserve_state(None)), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("str", lambda: _enter(preserve_state("net")), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("dict", lambda: _enter(preserve_state({"a": NET})), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad(
                "buffers int", lambda: _enter(preserve_state(NET, buffers=1)), TypeError, "buffers"
            ),  # type: ignore[arg-type]
        ],
        valid=[Valid("train-mode BN model", lambda: _enter(preserve_state(bn_dropout_net())))],
    ),
    # -- names exported by attribkit.layers only --------------------------------------------
    Row(
        "layers.layer_name",
        bad=[
            Bad("unknown", lambda: layer_name(NET, "x"), ValueError, "does not exist"),
            Bad("int", lambda: layer_name(NET, 0), TypeError, "dotted name"),  # type: ignore[arg-type]
            Bad("foreign", lambda: layer_name(NET, nn.Conv2d(1, 1, 1)), ValueError, "not part"),
            Bad("not a model", lambda: layer_name([], "0"), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("None", lambda: layer_name(NET, None), TypeError, "dotted name"),  # type: ignore[arg-type]
        ],
        valid=[Valid("nested name", lambda: layer_name(nn.Sequential(NET), "0.2"))],
    ),
    Row(
        "layers.count_hooks",
        bad=[
            Bad("int", lambda: count_hooks(3), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("None", lambda: count_hooks(None), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("tensor", lambda: count_hooks(X), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("list", lambda: count_hooks([NET]), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("str", lambda: count_hooks("net"), TypeError, "nn.Module"),  # type: ignore[arg-type]
        ],
        valid=[Valid("module without children", lambda: count_hooks(nn.ReLU()))],
    ),
    Row(
        "layers.assert_no_hooks",
        bad=[
            Bad("int", lambda: assert_no_hooks(3), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("None", lambda: assert_no_hooks(None), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("tensor", lambda: assert_no_hooks(X), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("hook left", lambda: _hooked(), AssertionError, "hook"),
            Bad("str", lambda: assert_no_hooks("net"), TypeError, "nn.Module"),  # type: ignore[arg-type]
        ],
        valid=[Valid("clean model", lambda: assert_no_hooks(conv_net()))],
    ),
    Row(
        "layers.first_conv",
        bad=[
            Bad("no conv", lambda: first_conv(nn.Linear(1, 1)), ValueError, "no nn.Conv2d"),
            Bad("int", lambda: first_conv(3), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("tensor", lambda: first_conv(X), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("conv1d only", lambda: first_conv(nn.Conv1d(1, 1, 1)), ValueError, "no nn.Conv2d"),
            Bad("None", lambda: first_conv(None), TypeError, "nn.Module"),  # type: ignore[arg-type]
        ],
        valid=[Valid("conv itself", lambda: first_conv(nn.Conv2d(1, 1, 1)))],
    ),
    Row(
        "layers.iter_batches",
        bad=[
            Bad("batch 0", lambda: list(iter_batches(X, 0)), ValueError, "batch_size"),
            Bad("1-D", lambda: list(iter_batches(torch.zeros(3), 2)), ValueError, "N×"),
            Bad("int data", lambda: list(iter_batches(5, 2)), TypeError, "tensor, a DataLoader"),  # type: ignore[arg-type]
            Bad("strings", lambda: list(iter_batches(["a"], 2)), TypeError, "each batch"),
            Bad("NaN", lambda: list(iter_batches(with_nan(X), 2)), ValueError, "NaN"),
        ],
        valid=[Valid("tuples", lambda: list(iter_batches([(X, torch.zeros(4))], 2)))],
    ),
    Row(
        "layers.pool_features",
        bad=[
            Bad("pool", lambda: pool_features(X, "sum"), ValueError, "pool"),
            Bad("not tensor", lambda: pool_features([1.0], "avg"), TypeError, "tensor"),  # type: ignore[arg-type]
            Bad("1-D", lambda: pool_features(torch.zeros(3)), ValueError, "N×"),
            Bad(
                "int dtype",
                lambda: pool_features(torch.zeros(2, 3, 2, 2, dtype=torch.long)),
                TypeError,
                "floating point",
            ),
            Bad("NaN", lambda: pool_features(with_nan(X)), ValueError, "NaN"),
        ],
        valid=[Valid("N×D passes", lambda: pool_features(torch.zeros(2, 5)))],
    ),
    Row(
        "layers.analytic_receptive_field",
        bad=[
            Bad("size 0", lambda: analytic_receptive_field(NET, "1", 0), ValueError, "input_size"),
            Bad("flat", lambda: analytic_receptive_field(NET, "5", 8), ValueError, "spatial"),
            Bad("unknown", lambda: analytic_receptive_field(NET, "x", 8), ValueError, "exist"),
            Bad(
                "channels 0",
                lambda: analytic_receptive_field(NET, "1", 8, in_channels=0),
                ValueError,
                "in_channels",
            ),
            Bad(
                "residual",
                lambda: analytic_receptive_field(_Residual(), "conv", 8),
                ValueError,
                "not a chain",
            ),
        ],
        valid=[Valid("non-square", lambda: analytic_receptive_field(NET, "2", (8, 16)))],
    ),
    Row(
        "layers.empirical_receptive_field",
        bad=[
            Bad("size 0", lambda: empirical_receptive_field(NET, "1", 0), ValueError, "input_size"),
            Bad(
                "samples 0",
                lambda: empirical_receptive_field(NET, "1", 8, samples=0),
                ValueError,
                "samples",
            ),
            Bad(
                "max_scale",
                lambda: empirical_receptive_field(NET, "1", 8, max_scale=0),
                ValueError,
                "max_scale",
            ),
            Bad("flat", lambda: empirical_receptive_field(NET, "5", 8), ValueError, "spatial"),
            Bad(
                "channels -1",
                lambda: empirical_receptive_field(NET, "1", 8, in_channels=-1),
                ValueError,
                "in_channels",
            ),
        ],
        valid=[Valid("residual model", lambda: empirical_receptive_field(_Residual(), "conv", 8))],
    ),
    Row(
        "layers.ReceptiveField",
        bad=[
            Bad("outside", lambda: _rf().box(4, 0), ValueError, "outside"),
            Bad("negative", lambda: _rf().box(-1, 0), ValueError, "outside"),
            Bad("float", lambda: _rf().box(0.5, 0), TypeError, "integers"),  # type: ignore[arg-type]
            Bad(
                "bad size",
                lambda: ReceptiveField("c", (8, 8), (4, 4), (0, 3), (2, 2), (0, 0), "analytic"),
                ValueError,
                "size",
            ),
            Bad(
                "bad method",
                lambda: ReceptiveField("c", (8, 8), (4, 4), (3, 3), (2, 2), (0, 0), "guess"),
                ValueError,
                "method",
            ),
        ],
        valid=[Valid("clipped box", lambda: _rf().box(0, 0, clip=True))],
    ),
    Row(
        "layers.TopK",
        bad=[
            Bad("channels 0", lambda: TopK.empty(0, 2), ValueError, "channels"),
            Bad("k 0", lambda: TopK.empty(2, 0), ValueError, "k must be"),
            Bad(
                "1-D",
                lambda: TopK(
                    torch.zeros(3),
                    torch.zeros(3).long(),
                    torch.zeros(3).long(),
                    torch.zeros(3).long(),
                ),
                ValueError,
                "C×k",
            ),
            Bad(
                "shapes differ",
                lambda: TopK(
                    torch.zeros(2, 3),
                    torch.zeros(2, 2).long(),
                    torch.zeros(2, 3).long(),
                    torch.zeros(2, 3).long(),
                ),
                ValueError,
                "C×k alike",
            ),
            Bad(
                "float index",
                lambda: TopK(
                    torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1, 1)
                ),
                TypeError,
                "integers",
            ),
        ],
        valid=[Valid("k=1 on CPU", lambda: TopK.empty(1, 1, torch.device("cpu")))],
    ),
    Row(
        "layers.merge_topk",
        bad=[
            Bad(
                "channels differ",
                lambda: merge_topk(_topk(), TopK.empty(3, 3)),
                ValueError,
                "channels",
            ),
            Bad("not TopK", lambda: merge_topk(_topk(), None), TypeError, "TopK"),  # type: ignore[arg-type]
            Bad("k 0", lambda: merge_topk(_topk(), _topk(), 0), ValueError, "k must be"),
            Bad("k float", lambda: merge_topk(_topk(), _topk(), 1.5), ValueError, "k must be"),  # type: ignore[arg-type]
            Bad("tuple", lambda: merge_topk((1, 2), _topk()), TypeError, "TopK"),  # type: ignore[arg-type]
        ],
        valid=[Valid("larger k pads", lambda: merge_topk(_topk(), _topk(), 8))],
    ),
    Row(
        "layers.batch_topk",
        bad=[
            Bad("3-D", lambda: batch_topk(torch.zeros(2, 3, 3), 0, 1), ValueError, "B×C×h×w"),
            Bad("k 0", lambda: batch_topk(torch.zeros(1, 2, 3, 3), 0, 0), ValueError, "k must"),
            Bad(
                "NaN",
                lambda: batch_topk(with_nan(torch.zeros(1, 2, 3, 3)), 0, 1),
                ValueError,
                "NaN",
            ),
            Bad(
                "start -1",
                lambda: batch_topk(torch.zeros(1, 2, 3, 3), -1, 1),
                ValueError,
                "start_index",
            ),
            Bad(
                "int acts",
                lambda: batch_topk(torch.zeros(1, 2, 3, 3).long(), 0, 1),
                ValueError,
                "floating-point",
            ),
        ],
        valid=[Valid("k larger than batch", lambda: batch_topk(torch.rand(1, 2, 3, 3), 0, 5))],
    ),
    Row(
        "layers.crop_box",
        bad=[
            Bad("empty box", lambda: crop_box(X[0], (2, 2, 2, 4)), ValueError, "empty box"),
            Bad("4-D", lambda: crop_box(X, (0, 0, 2, 2)), ValueError, "C×H×W"),
            Bad("3 numbers", lambda: crop_box(X[0], (0, 0, 2)), ValueError, "top, left"),  # type: ignore[arg-type]
            Bad("float box", lambda: crop_box(X[0], (0.5, 0, 2, 2)), ValueError, "integers"),  # type: ignore[arg-type]
            Bad(
                "NaN pad",
                lambda: crop_box(X[0], (0, 0, 2, 2), float("nan")),
                ValueError,
                "pad_value",
            ),
        ],
        valid=[Valid("box outside the image", lambda: crop_box(X[0], (-5, -5, -1, -1)))],
    ),
    Row(
        "layers.random_crops",
        bad=[
            Bad("per 0", lambda: random_crops(X, 0, 4), ValueError, "per_image"),
            Bad("size 0", lambda: random_crops(X, 1, 0), ValueError, "size"),
            Bad("too large", lambda: random_crops(X, 1, 9), ValueError, "at least that large"),
            Bad("empty", lambda: random_crops([], 1, 2), ValueError, "empty"),
            Bad("NaN", lambda: random_crops(with_nan(X), 1, 2), ValueError, "NaN"),
            Bad("seed float", lambda: random_crops(X, 1, 2, seed=0.5), TypeError, "seed"),  # type: ignore[arg-type]
        ],
        valid=[Valid("list of sizes", lambda: random_crops([X[0], images(1, 12)[0]], 2, 8))],
    ),
]


class _Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.skip = nn.Conv2d(3, 3, 3, padding=1)
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x + self.skip(x))


def _rf() -> ReceptiveField:
    return ReceptiveField("c", (8, 8), (4, 4), (3, 3), (2, 2), (-1, -1), "analytic")


def _hooked() -> None:
    net = conv_net()
    h = net[0].register_forward_hook(lambda *a: None)
    try:
        assert_no_hooks(net)
    finally:
        h.remove()


test_bad_input, test_valid_odd_input = table_tests(ROWS)
