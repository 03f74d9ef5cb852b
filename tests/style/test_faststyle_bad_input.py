"""Bad-input rows for fast style: the style networks, stylize, model files, training and its
parts (data sources, the loop, evaluation)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from badinput import Bad, Row, Valid, table_tests
from helpers.tiny import images, one_thread, tiny_training, with_nan  # noqa: F401 (fixture)
from torch import nn

from attribkit import MultiStyleNet, TransformerNet, load_shipped_model, stylize, train_style
from attribkit.style import (
    ConditionalInstanceNorm2d,
    StyleSpec,
    load_style_model,
    parse_style_args,
    save_style_model,
    style_weights,
    stylize_files,
)
from attribkit.style.checkpoint import read_style_metadata, shipped_model_path
from attribkit.style.train import evaluate_style, training_styles
from attribkit.style.train_data import CropSource, ImageSet
from attribkit.style.train_loop import run_training

X = images(2, 16)
NET = MultiStyleNet(2, width=4, n_residual=1, style_names=["a", "b"])
ONE = TransformerNet(width=4, n_residual=1)
BB = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
STYLE = images(1, 16, seed=3)
SPECS = {"a": StyleSpec(STYLE, size=None), "b": StyleSpec(images(1, 16, seed=4), size=None)}


def _train(styles: object = None, content: object = None, **kw: object) -> object:
    args = tiny_training(backbone=BB, style_layers=["0", "1"], steps=1)
    args.update(kw)
    return train_style(
        {"s": STYLE} if styles is None else styles,  # type: ignore[arg-type]
        [images(1, 20)] if content is None else content,  # type: ignore[arg-type]
        **args,  # type: ignore[arg-type]
    )


def _saved(tmp: Path, **meta_changes: object) -> Path:
    save_style_model(NET, tmp / "m")
    if meta_changes:
        j = tmp / "m.json"
        j.write_text(json.dumps({**json.loads(j.read_text()), **meta_changes}))
    return tmp / "m"


class _NoLoss:
    def loss(self, net: nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"mse": net(batch).mean()}


class _Mean:
    def loss(self, net: nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": net(batch).mean()}


def _crops(**kw: object) -> CropSource:
    args: dict[str, object] = dict(images=ImageSet([images(1, 20)], 20), crop=16, batch_size=1)
    args.update(kw)
    return CropSource(**args)  # type: ignore[arg-type]


def _run(net: nn.Module = ONE, step: object = None, **kw: object) -> object:
    args: dict[str, object] = dict(steps=1, show_progress=False)
    args.update(kw)
    return run_training(net, step or _Mean(), _crops(), **args)  # type: ignore[arg-type]


TMP = Path(__file__).parent  # only for paths that must not exist


ROWS = [
    Row(
        "TransformerNet",
        bad=[
            Bad("width 0", lambda: TransformerNet(width=0), ValueError, "width"),
            Bad("width float", lambda: TransformerNet(width=2.5), ValueError, "width"),  # type: ignore[arg-type]
            Bad("residual -1", lambda: TransformerNet(n_residual=-1), ValueError, "n_residual"),
            Bad("3-D", lambda: ONE(X[0]), ValueError, "N×3×H×W"),
            Bad("NaN", lambda: ONE(with_nan(X)), ValueError, "NaN"),
            Bad("int", lambda: ONE((X * 255).long()), TypeError, "floating point"),
            Bad("too small", lambda: ONE(images(1, 4)), ValueError, "at least 8×8"),
            Bad("not divisible", lambda: ONE(images(1, 10)), ValueError, "divisible by 4"),
            Bad("style 1 of 1", lambda: ONE(X, 1), ValueError, "out of range"),
        ],
        valid=[Valid("style 0 accepted", lambda: ONE(X, 0))],
    ),
    Row(
        "MultiStyleNet",
        bad=[
            Bad("n_styles 0", lambda: MultiStyleNet(0), ValueError, "n_styles"),
            Bad("n_styles bool", lambda: MultiStyleNet(True), ValueError, "n_styles"),  # type: ignore[arg-type]
            Bad(
                "names count",
                lambda: MultiStyleNet(2, width=4, style_names=["a"]),
                ValueError,
                "distinct style names",
            ),
            Bad("width 0", lambda: MultiStyleNet(2, width=0), ValueError, "width"),
            Bad("index", lambda: NET(X, 5), ValueError, "out of range"),
            Bad("name", lambda: NET(X, "c"), ValueError, "no style called"),
            Bad("mix sum", lambda: NET(X, [0.5, 0.2]), ValueError, "sum to 1"),
            Bad("NaN mix", lambda: NET(X, [float("nan"), 1.0]), ValueError, "finite"),
            Bad("NaN image", lambda: NET(with_nan(X), 0), ValueError, "NaN"),
        ],
        valid=[Valid("one mix per image", lambda: NET(X, torch.tensor([[1.0, 0], [0.5, 0.5]])))],
    ),
    Row(
        "stylize",
        bad=[
            Bad("empty batch", lambda: stylize(NET, X[:0], 0), ValueError, "empty batch"),
            Bad("empty list", lambda: stylize(NET, [], 0), ValueError, "empty list"),
            Bad("NaN", lambda: stylize(NET, with_nan(X), 0), ValueError, "NaN"),
            Bad("3-D", lambda: stylize(NET, X[0], 0), ValueError, "batch dimension"),
            Bad("above 1", lambda: stylize(NET, X + 1, 0), ValueError, r"\[0, 1\]"),
            Bad("no style", lambda: stylize(NET, X), ValueError, "choose one"),
            Bad("model", lambda: stylize(BB, X), TypeError, "MultiStyleNet or AdaINStyleNet"),
            Bad("batch 0", lambda: stylize(NET, X, 0, batch_size=0), ValueError, "batch_size"),
            Bad("half on cpu", lambda: stylize(NET, X, 0, half=True), ValueError, "CUDA"),
            Bad("string", lambda: stylize(NET, "cat.png", 0), TypeError, "tensor or a list"),  # type: ignore[arg-type]
            Bad("tiny", lambda: stylize(NET, images(1, 3), 0), ValueError, "at least 4×4"),
        ],
        valid=[
            Valid("odd sizes in a list", lambda: stylize(NET, [images(1, 13), images(1, 9)], 1)),
            Valid("train-mode net", lambda: stylize(MultiStyleNet(1, width=4).train(), X)),
        ],
    ),
    Row(
        "load_shipped_model",
        bad=[
            Bad(
                "unknown device",
                lambda: load_shipped_model(device="gpu"),
                ValueError,
                "not a device",
            ),
            Bad("float", lambda: load_shipped_model(device=3.5), TypeError, "device name"),  # type: ignore[arg-type]
            Bad("list", lambda: load_shipped_model(device=["cpu"]), TypeError, "device name"),  # type: ignore[arg-type]
            Bad("meta", lambda: load_shipped_model(device="meta"), ValueError, "holds no data"),
            Bad("cuda 99", lambda: load_shipped_model(device="cuda:99"), ValueError, "CUDA"),
            Bad("bool", lambda: load_shipped_model(device=True), TypeError, "device name"),  # type: ignore[arg-type]
        ],
        valid=[Valid("torch.device", lambda: load_shipped_model(device=torch.device("cpu")))],
    ),
    Row(
        "train_style",
        bad=[
            Bad("steps 0", lambda: _train(steps=0), ValueError, "steps must be a positive"),
            Bad("crop 18", lambda: _train(crop=18), ValueError, "multiple of 4"),
            Bad("lr nan", lambda: _train(lr=float("nan")), ValueError, "lr must be a finite"),
            Bad("lr inf", lambda: _train(lr=float("inf")), ValueError, "lr must be a finite"),
            Bad("style weight", lambda: _train(style_weight=-1.0), ValueError, "at least 0"),
            Bad("tv nan", lambda: _train(tv_weight=float("nan")), ValueError, "tv_weight"),
            Bad("no styles", lambda: _train(styles={}), ValueError, "at least one style"),
            Bad("one string", lambda: _train(styles="starry_night"), TypeError, "list or a map"),
            Bad("empty content", lambda: _train(content=[]), ValueError, "empty"),
            Bad("content int", lambda: _train(content=[5]), TypeError, "image 0"),
            Bad("holdout str", lambda: _train(holdout="chelsea"), TypeError, "holdout"),
            Bad("model styles", lambda: _train(model=NET), ValueError, "2 styles but 1"),
            Bad("device", lambda: _train(device="gpu"), ValueError, "not a device"),
            Bad("NaN style", lambda: _train(styles={"s": with_nan(STYLE)}), ValueError, "NaN"),
            Bad("pad -1", lambda: _train(pad=-1), ValueError, "pad"),
            Bad("layers str", lambda: _train(style_layers="1"), TypeError, "list of layers"),
        ],
        valid=[Valid("StyleSpec list", lambda: _train(styles=[StyleSpec(STYLE, size=20)]))],
    ),
    # -- names exported by attribkit.style only ---------------------------------------------
    Row(
        "style.ConditionalInstanceNorm2d",
        bad=[
            Bad("channels 0", lambda: ConditionalInstanceNorm2d(0, 2), ValueError, "channels"),
            Bad("styles 0", lambda: ConditionalInstanceNorm2d(4, 0), ValueError, "n_styles"),
            Bad(
                "eps nan",
                lambda: ConditionalInstanceNorm2d(4, 2, eps=float("nan")),
                ValueError,
                "eps",
            ),
            Bad(
                "channels",
                lambda: ConditionalInstanceNorm2d(4, 2)(X, torch.eye(2)),
                ValueError,
                "N×4×H×W",
            ),
            Bad(
                "weights",
                lambda: ConditionalInstanceNorm2d(3, 2)(X, torch.ones(2, 3)),
                ValueError,
                "N×S",
            ),
        ],
        valid=[
            Valid("1×1 maps", lambda: ConditionalInstanceNorm2d(3, 2)(images(2, 2), torch.eye(2)))
        ],
    ),
    Row(
        "style.StyleSpec",
        bad=[
            Bad("size 0", lambda: StyleSpec(STYLE, size=0), ValueError, "size"),
            Bad(
                "crop range",
                lambda: StyleSpec(STYLE, crop=(0.5, 0, 0.8, 1)),
                ValueError,
                "inside the image",
            ),
            Bad("crop 3", lambda: StyleSpec(STYLE, crop=(0, 0, 1)), ValueError, "crop"),  # type: ignore[arg-type]
            Bad(
                "crop nan",
                lambda: StyleSpec(STYLE, crop=(float("nan"), 0, 1, 1)),
                ValueError,
                "crop",
            ),
            Bad("image int", lambda: StyleSpec(3), TypeError, "bundled name"),  # type: ignore[arg-type]
            Bad(
                "missing file",
                lambda: StyleSpec("no/such.png").load(),
                FileNotFoundError,
                "no image at",
            ),
        ],
        valid=[
            Valid("whole image crop", lambda: StyleSpec(STYLE, size=8, crop=(0, 0, 1, 1)).load()),
            Valid(
                "painting_set key",
                lambda: StyleSpec("hokusai-the-great-wave-off-kanagawa", size=8).load(),
            ),
        ],
    ),
    Row(
        "style.style_weights",
        bad=[
            Bad("negative", lambda: style_weights([-0.5, 1.5], 2), ValueError, "non-negative"),
            Bad("sum", lambda: style_weights([0.2, 0.2], 2), ValueError, "sum to 1"),
            Bad("NaN", lambda: style_weights([float("nan"), 1.0], 2), ValueError, "finite"),
            Bad(
                "shape", lambda: style_weights(torch.ones(3, 2) / 2, 2, batch=2), ValueError, "2×2"
            ),
            Bad("name", lambda: style_weights("x", 2, names=["a", "b"]), ValueError, "no style"),
            Bad("bool", lambda: style_weights(True, 2), TypeError, "an index, a name"),
        ],
        valid=[Valid("normalize", lambda: style_weights([1.0, 3.0], 2, normalize=True))],
    ),
    Row(
        "style.parse_style_args",
        bad=[
            Bad("empty", lambda: parse_style_args([], ["a"]), ValueError, "at least one"),
            Bad("unknown", lambda: parse_style_args("c", ["a"]), ValueError, "no style called"),
            Bad("weight", lambda: parse_style_args("a=x", ["a"]), ValueError, "NAME=0.5"),
            Bad("nan", lambda: parse_style_args("a=nan", ["a"]), ValueError, "finite"),
            Bad("negative", lambda: parse_style_args("a=-1", ["a"]), ValueError, ">= 0"),
            Bad("index", lambda: parse_style_args("3", ["a"]), ValueError, "out of range"),
            Bad("int", lambda: parse_style_args(5, ["a"]), TypeError, "NAME=0.5"),  # type: ignore[arg-type]
        ],
        valid=[Valid("repeated name adds up", lambda: parse_style_args(["a=1", "a=2"], ["a"]))],
    ),
    Row(
        "style.save_style_model",
        bad=[
            Bad(
                "linear",
                lambda: save_style_model(nn.Linear(2, 2), TMP / "x"),
                TypeError,
                "MultiStyleNet or AdaINStyleNet",
            ),
            Bad("path int", lambda: save_style_model(NET, 3), TypeError, "str or Path"),  # type: ignore[arg-type]
            Bad(
                "clash",
                lambda: save_style_model(NET, TMP / "x", extra={"arch": 1}),
                ValueError,
                "own keys",
            ),
            Bad(
                "extra tensor",
                lambda: save_style_model(NET, TMP / "x", extra_tensors={"a": 1}),
                TypeError,
                "must be a tensor",
            ),  # type: ignore[dict-item]
            Bad(
                "DDP-like wrapper",
                lambda: save_style_model(nn.Sequential(NET), TMP / "x"),
                TypeError,
                "unwrap",
            ),
        ],
        valid=[Valid("path with suffix", lambda: _saved_with_suffix())],
    ),
    Row(
        "style.load_style_model",
        bad=[
            Bad(
                "missing",
                lambda: load_style_model(TMP / "nothing"),
                FileNotFoundError,
                "no model description",
            ),
            Bad("path int", lambda: load_style_model(3), TypeError, "str or Path"),  # type: ignore[arg-type]
            Bad(
                "device",
                lambda: load_style_model(shipped_model_path(), device="tpu:x"),
                ValueError,
                "not a device",
            ),
            Bad(
                "format",
                lambda: load_style_model(_tmp_saved(format="x")),
                ValueError,
                "not an attribkit fast-style",
            ),
            Bad("version", lambda: load_style_model(_tmp_saved(version=2)), ValueError, "version"),
            Bad(
                "styles",
                lambda: load_style_model(_tmp_saved(styles="ab")),
                ValueError,
                "'styles' must be a list",
            ),
            Bad(
                "arch",
                lambda: load_style_model(_tmp_saved(arch={"class": "Evil"})),
                ValueError,
                "unknown architecture",
            ),
        ],
        valid=[
            Valid(
                ".json suffix given",
                lambda: load_style_model(shipped_model_path().with_suffix(".json")),
            )
        ],
    ),
    Row(
        "style.stylize_files",
        bad=[
            Bad(
                "no images", lambda: stylize_files([], "a", model=NET), ValueError, "non-empty list"
            ),
            Bad(
                "size 0",
                lambda: stylize_files(["chelsea"], "a", model=NET, size=0),
                ValueError,
                "size",
            ),
            Bad(
                "style",
                lambda: stylize_files(["chelsea"], "zz", model=NET),
                ValueError,
                "no style called",
            ),
            Bad(
                "out_dir",
                lambda: stylize_files(["chelsea"], "a", 3, model=NET),
                TypeError,
                "folder path",
            ),  # type: ignore[arg-type]
            Bad(
                "missing",
                lambda: stylize_files(["no/such.png"], "a", model=NET),
                FileNotFoundError,
                "no/such.png",
            ),
        ],
        valid=[Valid("one path, not a list", lambda: _stylize_one())],
    ),
    Row(
        "style.train.evaluate_style",
        bad=[
            Bad(
                "count",
                lambda: evaluate_style(
                    NET, X, {"a": SPECS["a"]}, backbone=BB, style_layers=["1"], pad=0
                ),
                ValueError,
                "2 styles but 1",
            ),
            Bad(
                "NaN",
                lambda: evaluate_style(NET, with_nan(X), SPECS, backbone=BB),
                ValueError,
                "NaN",
            ),
            Bad(
                "model",
                lambda: evaluate_style(BB, X, SPECS, backbone=BB),
                TypeError,
                "TransformerNet or MultiStyleNet",
            ),  # type: ignore[arg-type]
            Bad(
                "specs",
                lambda: evaluate_style(NET, X, {"a": STYLE, "b": STYLE}, backbone=BB),
                TypeError,
                "StyleSpec",
            ),  # type: ignore[dict-item]
            Bad(
                "weight",
                lambda: evaluate_style(NET, X, SPECS, backbone=BB, style_weight=float("nan")),
                ValueError,
                "style_weight",
            ),
            Bad(
                "no layers",
                lambda: evaluate_style(NET, X, SPECS, backbone=BB),
                ValueError,
                "pass content_layers and style_layers",
            ),
        ],
        valid=[
            Valid(
                "one image",
                lambda: evaluate_style(NET, X[:1], SPECS, backbone=BB, style_layers=["1"], pad=0),
            )
        ],
    ),
    Row(
        "style.train.training_styles",
        bad=[
            Bad("no record", lambda: training_styles({}), ValueError, "say which style images"),
            Bad(
                "tensor",
                lambda: training_styles(
                    {"training": {"styles": ["a"], "style_sources": ["tensor"]}}
                ),
                ValueError,
                "say which style images",
            ),
            Bad(
                "lengths",
                lambda: training_styles(
                    {"training": {"styles": ["a", "b"], "style_sources": ["x"]}}
                ),
                ValueError,
                "equal length",
            ),
            Bad(
                "training str",
                lambda: training_styles({"training": "x"}),
                ValueError,
                "no 'training'",
            ),
            Bad(
                "names int",
                lambda: training_styles({"training": {"styles": [1], "style_sources": ["x"]}}),
                ValueError,
                "strings",
            ),
            Bad(
                "bad size",
                lambda: training_styles(
                    {"training": {"styles": ["a"], "style_sources": ["x"], "style_sizes": [-3]}}
                ),
                ValueError,
                "invalid",
            ),
        ],
        valid=[
            Valid(
                "shipped record", lambda: training_styles(read_style_metadata(shipped_model_path()))
            )
        ],
    ),
    Row(
        "style.train_loop.run_training",
        bad=[
            Bad("steps 0", lambda: _run(steps=0), ValueError, "steps"),
            Bad("lr nan", lambda: _run(lr=float("nan")), ValueError, "lr"),
            Bad(
                "not a net",
                lambda: run_training(3, _Mean(), _crops(), steps=1),
                TypeError,
                "nn.Module",
            ),  # type: ignore[arg-type]
            Bad("no parameters", lambda: _run(nn.ReLU()), ValueError, "no parameter"),
            Bad("checkpoint -1", lambda: _run(checkpoint_every=-1), ValueError, "checkpoint_every"),
            Bad("no loss term", lambda: _run(step=_NoLoss()), KeyError, "no 'loss'"),
        ],
        valid=[Valid("SGD", lambda: _run(optimizer=lambda p: torch.optim.SGD(p, lr=0.1)))],
    ),
    Row(
        "style.train_data.CropSource",
        bad=[
            Bad("crop 0", lambda: _crops(crop=0), ValueError, "crop"),
            Bad("batch 0", lambda: _crops(batch_size=0), ValueError, "batch_size"),
            Bad("no images", lambda: _crops(images=[]), ValueError, "n must be"),
            Bad(
                "gen state",
                lambda: _crops().load_state({"gen": torch.zeros(3)}),
                ValueError,
                "generator state",
            ),
            Bad(
                "pos",
                lambda: _crops().load_state({"pos": torch.tensor([1.0, 2.0])}),
                ValueError,
                "2 ints",
            ),
            Bad(
                "pos negative",
                lambda: _crops().load_state({"pos": torch.tensor([0, -1])}),
                ValueError,
                "2 ints",
            ),
        ],
        valid=[Valid("crop larger than the image", lambda: _crops(crop=32).next_batch(1))],
    ),
]


def _saved_with_suffix() -> None:
    import tempfile

    d = Path(tempfile.mkdtemp())
    save_style_model(NET, d / "m.safetensors")
    assert (d / "m.json").is_file()


def _tmp_saved(**changes: object) -> Path:
    import tempfile

    return _saved(Path(tempfile.mkdtemp()), **changes)


def _stylize_one() -> None:
    import tempfile

    from attribkit.io import save_image

    d = Path(tempfile.mkdtemp())
    save_image(images(1, 12)[0], d / "x.png")
    assert len(stylize_files(str(d / "x.png"), "b", d, model=NET)) == 1


pytestmark = pytest.mark.usefixtures("one_thread")

test_bad_input, test_valid_odd_input = table_tests(ROWS)
