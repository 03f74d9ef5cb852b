"""Bad-input rows for the model constructors and helpers in ``attribkit.__all__``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from badinput import Bad, Row, Valid, table_tests
from helpers.tiny import conv_net, images, with_nan

from attribkit import (
    DigitsCNN,
    NormalizedModel,
    class_index,
    efficientnet_lite0,
    imagenet_classes,
    load_digits_tensors,
    predict,
    train_digits_cnn,
    vgg16,
    vgg19,
)

NET = conv_net()
X = images(2)


def _file(data: bytes, suffix: str = ".pth") -> Path:
    d = Path(tempfile.mkdtemp())
    p = d / f"weights{suffix}"
    p.write_bytes(data)
    return p


def _saved_state(state: dict[str, torch.Tensor], suffix: str = ".pth") -> Path:
    p = Path(tempfile.mkdtemp()) / f"weights{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(p))
    else:
        torch.save(state, p)
    return p


def _vgg_keys(config: str = "vgg16", **real: torch.Tensor) -> dict[str, torch.Tensor]:
    """A state dict with every VGG key but tiny tensors (cheap), except those in ``real``."""
    from attribkit.models.vgg import VGG

    with torch.device("meta"):
        keys = list(VGG(config).state_dict())
    return {k: real.get(k.replace(".", "_"), torch.zeros(1)) for k in keys}


def _mutated_classes() -> None:
    names = imagenet_classes()
    names[0] = "changed"
    assert imagenet_classes()[0] == "tench"  # a fresh list each call


ROWS = [
    Row(
        "efficientnet_lite0",
        bad=[
            Bad("string", lambda: efficientnet_lite0("no"), TypeError, "True or False"),  # type: ignore[arg-type]
            Bad("path", lambda: efficientnet_lite0("weights.pth"), TypeError, "load_state_dict"),  # type: ignore[arg-type]
            Bad("None", lambda: efficientnet_lite0(None), TypeError, "True or False"),  # type: ignore[arg-type]
            Bad("int", lambda: efficientnet_lite0(1), TypeError, "True or False"),  # type: ignore[arg-type]
            Bad("list", lambda: efficientnet_lite0([]), TypeError, "True or False"),  # type: ignore[arg-type]
        ],
        valid=[Valid("random weights", lambda: efficientnet_lite0(False))],
    ),
    Row(
        "vgg16",
        bad=[
            Bad(
                "garbage file",
                lambda: vgg16(_file(b"\xff" * 100)),
                ValueError,
                "is not a VGG state dict",
            ),
            Bad("json file", lambda: vgg16(_file(b'{"a": 1}')), ValueError, "not a VGG state"),
            Bad(
                "not safetensors",
                lambda: vgg16(_file(b"abc", ".safetensors")),
                ValueError,
                "holds only 3 bytes",
            ),
            Bad(
                "other layers",
                lambda: vgg16(_saved_state({"x": torch.zeros(2)})),
                ValueError,
                "not vgg16 weights",
            ),
            Bad(
                "missing",
                lambda: vgg16("/nonexistent/vgg.pth"),
                FileNotFoundError,
                "does not exist",
            ),
            Bad("int", lambda: vgg16(5), TypeError, "state-dict path"),
            Bad("num_classes 0", lambda: vgg16(num_classes=0), ValueError, "num_classes"),
            Bad(
                "wrong shape",
                lambda: vgg16(_vgg_keys()),
                ValueError,
                "has shape",
            ),
            Bad(
                "NaN",
                lambda: vgg16(_vgg_keys(conv1_1_weight=torch.full((64, 3, 3, 3), np.nan))),
                ValueError,
                "NaN",
            ),
            Bad(
                "not tensors",
                lambda: vgg16({"conv1_1.weight": [1, 2]}),
                ValueError,
                "names to tensors",
            ),
        ],
        valid=[Valid("one-class head", lambda: vgg16(num_classes=1))],
    ),
    Row(
        "vgg19",
        bad=[
            Bad(
                "vgg16 weights",
                lambda: vgg19(_vgg_keys("vgg16")),
                ValueError,
                "not vgg19 weights",
            ),
            Bad(
                "garbage file",
                lambda: vgg19(_file(b"PK\x03\x04" * 10)),
                ValueError,
                "not a VGG state dict",
            ),
            Bad("num_classes bool", lambda: vgg19(num_classes=True), ValueError, "num_classes"),  # type: ignore[arg-type]
            Bad(
                "safetensors of other layers",
                lambda: vgg19(_saved_state({"w": torch.zeros(2)}, ".safetensors")),
                ValueError,
                "not vgg19 weights",
            ),
            Bad("list", lambda: vgg19([1]), TypeError, "state-dict path"),
        ],
        valid=[Valid("two-class head", lambda: vgg19(num_classes=2))],
    ),
    Row(
        "NormalizedModel",
        bad=[
            Bad("not a module", lambda: NormalizedModel("net"), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad(
                "lengths",
                lambda: NormalizedModel(NET, (0.5,), (0.2, 0.2)),
                ValueError,
                "one entry per channel",
            ),
            Bad("std 0", lambda: NormalizedModel(NET, std=(0.2, 0.0, 0.2)), ValueError, "positive"),
            Bad(
                "std nan",
                lambda: NormalizedModel(NET, std=(float("nan"),) * 3),
                ValueError,
                "finite",
            ),
            Bad("strings", lambda: NormalizedModel(NET, mean="abc"), TypeError, "list of numbers"),  # type: ignore[arg-type]
            Bad(
                "empty", lambda: NormalizedModel(NET, mean=(), std=()), TypeError, "non-empty list"
            ),
            Bad("3-D input", lambda: NormalizedModel(NET)(X[0]), ValueError, "batch dimension"),
            Bad(
                "channels",
                lambda: NormalizedModel(NET)(images(1, channels=1)),
                ValueError,
                "N×3×H×W",
            ),
        ],
        valid=[
            Valid(
                "grayscale stats",
                lambda: NormalizedModel(conv_net(1), (0.5,), (0.25,))(images(1, channels=1)),
            )
        ],
    ),
    Row(
        "DigitsCNN",
        bad=[
            Bad("0 classes", lambda: DigitsCNN(0), ValueError, "n_classes"),
            Bad("negative", lambda: DigitsCNN(-1), ValueError, "n_classes"),
            Bad("float", lambda: DigitsCNN(2.5), ValueError, "n_classes"),  # type: ignore[arg-type]
            Bad("bool", lambda: DigitsCNN(True), ValueError, "n_classes"),  # type: ignore[arg-type]
            Bad("string", lambda: DigitsCNN("10"), ValueError, "n_classes"),  # type: ignore[arg-type]
        ],
        valid=[Valid("two classes, 16 px", lambda: DigitsCNN(2)(images(1, 16, channels=1)))],
    ),
    Row(
        "train_digits_cnn",
        bad=[
            Bad("epochs -1", lambda: train_digits_cnn(epochs=-1), ValueError, "epochs"),
            Bad("batch 0", lambda: train_digits_cnn(batch_size=0), ValueError, "batch_size"),
            Bad("lr nan", lambda: train_digits_cnn(lr=float("nan")), ValueError, "lr"),
            Bad("lr 0", lambda: train_digits_cnn(lr=0.0), ValueError, "lr must be positive"),
            Bad("holdout 1", lambda: train_digits_cnn(holdout=1.0), ValueError, "fraction"),
            Bad("holdout -0.1", lambda: train_digits_cnn(holdout=-0.1), ValueError, "holdout"),
            Bad("seed float", lambda: train_digits_cnn(seed=0.5), TypeError, "seed"),  # type: ignore[arg-type]
        ],
        valid=[Valid("no epochs, no holdout", lambda: train_digits_cnn(epochs=0, holdout=0.0))],
    ),
    Row(
        "load_digits_tensors",
        bad=[
            Bad("int dtype", lambda: load_digits_tensors(torch.int64), TypeError, "floating-point"),
            Bad("string", lambda: load_digits_tensors("float32"), TypeError, "torch.dtype"),  # type: ignore[arg-type]
            Bad("None", lambda: load_digits_tensors(None), TypeError, "torch.dtype"),  # type: ignore[arg-type]
            Bad("bool dtype", lambda: load_digits_tensors(torch.bool), TypeError, "floating"),
            Bad("python float", lambda: load_digits_tensors(float), TypeError, "torch.dtype"),  # type: ignore[arg-type]
        ],
        valid=[Valid("float64", lambda: load_digits_tensors(torch.float64))],
    ),
    Row(
        "class_index",
        bad=[
            Bad("range", lambda: class_index(1000), ValueError, "out of range"),
            Bad("negative", lambda: class_index(-1), ValueError, "out of range"),
            Bad("bool", lambda: class_index(True), TypeError, "class index"),
            Bad("float", lambda: class_index(1.5), TypeError, "class index"),  # type: ignore[arg-type]
            Bad("ambiguous", lambda: class_index("cat"), ValueError, "ambiguous"),
            Bad("unknown", lambda: class_index("unicorn"), ValueError, "no ImageNet class"),
            Bad("empty", lambda: class_index("  "), ValueError, "empty"),
            Bad("n_classes 0", lambda: class_index(3, n_classes=0), ValueError, "n_classes"),
        ],
        valid=[
            Valid("padded, cased name", lambda: class_index("  Granny Smith ")),
            Valid("torch integer", lambda: class_index(torch.tensor(948))),  # type: ignore[arg-type]
        ],
    ),
    Row(
        "imagenet_classes",
        bad=[
            Bad("positional", lambda: imagenet_classes(1), TypeError, "positional argument"),  # type: ignore[call-arg]
            Bad("string", lambda: imagenet_classes("cat"), TypeError, "positional argument"),  # type: ignore[call-arg]
            Bad("None", lambda: imagenet_classes(None), TypeError, "positional argument"),  # type: ignore[call-arg]
            Bad("keyword", lambda: imagenet_classes(k=5), TypeError, "unexpected keyword"),  # type: ignore[call-arg]
            Bad("two", lambda: imagenet_classes(1, 2), TypeError, "positional argument"),  # type: ignore[call-arg]
        ],
        valid=[Valid("a fresh list each call", _mutated_classes)],
    ),
    Row(
        "predict",
        bad=[
            Bad("3-D", lambda: predict(NET, X[0]), ValueError, "batch dimension"),
            Bad("NaN", lambda: predict(NET, with_nan(X)), ValueError, "NaN"),
            Bad("range", lambda: predict(NET, X * 3), ValueError, r"\[0, 1\]"),
            Bad("topk 0", lambda: predict(NET, X, topk=0), ValueError, "topk"),
            Bad("topk float", lambda: predict(NET, X, topk=1.5), ValueError, "topk"),  # type: ignore[arg-type]
            Bad(
                "names",
                lambda: predict(NET, X, class_names=["a"]),
                ValueError,
                "one name per output",
            ),
            Bad("not a model", lambda: predict(lambda x: x, X), TypeError, "nn.Module"),  # type: ignore[arg-type]
        ],
        valid=[
            Valid("topk above classes", lambda: predict(NET, X, topk=10, class_names=list("abc")))
        ],
    ),
]


test_bad_input, test_valid_odd_input = table_tests(ROWS)


def test_a_bad_weights_file_leaves_a_clean_cli_error(capsys: pytest.CaptureFixture[str]) -> None:
    from attribkit.cli import main

    bad = _file(b"\x00garbage" * 20)
    assert main(["filters", "--model", f"vgg16={bad}"]) == 2
    err = capsys.readouterr().err
    assert (
        "Traceback" not in err and "is not a VGG state dict" in err and len(err.splitlines()) == 1
    )
