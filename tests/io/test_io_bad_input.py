"""Bad-input rows for images in and out: load_image, save_image, to_numpy, to_pil (the bundled
samples' rows are in tests/data/test_data_bad_input.py). See tests/badinput.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from badinput import Bad, Row, Valid, table_tests
from PIL import Image

from attribkit import (
    load_image,
    save_image,
    to_numpy,
    to_pil,
)

_FOLDER = tempfile.TemporaryDirectory(prefix="attribkit-bad-input-")  # removed at exit


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(dir=_FOLDER.name))


def _file(name: str, data: bytes) -> Path:
    path = _tmp() / name
    path.write_bytes(data)
    return path


def _png16() -> Path:
    path = _tmp() / "ramp16.png"
    Image.fromarray(np.linspace(0, 65535, 256).astype(np.uint16).reshape(16, 16)).save(path)
    return path


def _nan(shape: tuple[int, ...] = (3, 4, 4)) -> torch.Tensor:
    t = torch.rand(*shape)
    t.view(-1)[0] = float("nan")
    return t


def _shape(*expected: int):  # type: ignore[no-untyped-def]
    def check(result: object) -> None:
        assert isinstance(result, torch.Tensor) and tuple(result.shape) == expected, result

    return check


def _unit(result: object) -> None:
    assert isinstance(result, torch.Tensor)
    assert 0 <= float(result.min()) and float(result.max()) <= 1


def _mean16(result: object) -> None:
    assert isinstance(result, torch.Tensor) and abs(float(result.mean()) - 0.5) < 1e-3


def _saved_nothing(call):  # type: ignore[no-untyped-def]
    """Run a save that must fail, then check that its folder stayed empty."""

    def run() -> None:
        folder = _tmp()
        try:
            call(folder / "out" / "x.png")
        finally:
            assert list(folder.iterdir()) == [], "a refused save_image wrote something"

    return run


OVER = torch.rand(3, 4, 4).clamp(0, 1)
OVER[0, 0, 0] = 1.0000001

ROWS = [
    Row(
        "load_image",
        bad=[
            Bad("number", lambda: load_image(42), TypeError, "cannot load an image from int"),
            Bad("missing file", lambda: load_image("/no/such/image.png"), FileNotFoundError,
                "no image file"),
            Bad("not an image", lambda: load_image(_file("x.png", b"not a png")), ValueError,
                "cannot read"),
            Bad("crop zero", lambda: load_image(np.zeros((8, 8), np.uint8), crop=0), ValueError,
                "crop must be positive"),
            Bad("size negative", lambda: load_image(np.zeros((8, 8), np.uint8), size=-4),
                ValueError, "size must be positive"),
            Bad("size float", lambda: load_image(np.zeros((8, 8), np.uint8), size=2.5),
                ValueError, "positive int"),
            Bad("crop larger", lambda: load_image(np.zeros((8, 8), np.uint8), crop=9),
                ValueError, "larger than the image"),
            Bad("tensor channels-last", lambda: load_image(torch.rand(5, 4, 3)), ValueError,
                "channels-first.*channels_first=False"),
            Bad("array channels-first", lambda: load_image(np.random.rand(3, 9, 9)), ValueError,
                "channels-last.*channels_first=True"),
            Bad("batch", lambda: load_image(torch.rand(2, 3, 4, 4)), ValueError, "batch of 2"),
            Bad("nan", lambda: load_image(_nan()), ValueError, "NaN or infinite"),
            Bad("float range", lambda: load_image(np.full((2, 2), 3.0)), ValueError,
                r"\[0, 1\].*255"),
            Bad("int range", lambda: load_image(np.array([[0, 4096]])), ValueError,
                "0..255.*uint16"),
            Bad("dtype int", lambda: load_image(np.zeros((2, 2), np.uint8), dtype=torch.int32),
                TypeError, "floating-point"),
            Bad("strings", lambda: load_image(np.array([["a"]])), TypeError, "dtype"),
            Bad("1-D", lambda: load_image(np.zeros(5)), ValueError, "cannot read 1-D"),
            Bad("empty", lambda: load_image(np.zeros((0, 4, 3))), ValueError, "empty"),
            Bad("channels_first str", lambda: load_image(torch.rand(3, 2, 2), channels_first="y"),
                TypeError, "channels_first"),
            Bad("bomb", lambda: load_image(_png16(), max_pixels=10), ValueError,
                "decompression bomb"),
        ],
        valid=[
            Valid("16-bit PNG", lambda: load_image(_png16()), _mean16),
            Valid("channels-first tensor", lambda: load_image(torch.rand(1, 3, 5, 4)),
                  _shape(1, 3, 5, 4)),
            Valid("overshoot 1.0000001", lambda: load_image(OVER), _unit),
            Valid("RGBA float array", lambda: load_image(np.random.rand(4, 5, 4)),
                  _shape(1, 3, 4, 5)),
            Valid("bool mask", lambda: load_image(np.eye(3, dtype=bool)), _shape(1, 3, 3, 3)),
            Valid("numpy int size", lambda: load_image(np.zeros((8, 8), np.uint8),
                                                       size=np.int64(4)), _shape(1, 3, 4, 4)),
        ],
    ),
    Row(
        "save_image",
        bad=[
            Bad("nan", _saved_nothing(lambda p: save_image(_nan(), p)), ValueError, "NaN"),
            Bad("range", _saved_nothing(lambda p: save_image(torch.full((3, 2, 2), 2.0), p)),
                ValueError, r"\[0, 1\]"),
            Bad("batch", _saved_nothing(lambda p: save_image(torch.rand(2, 3, 4, 4), p)),
                ValueError, "batch of 2"),
            Bad("int64", _saved_nothing(lambda p: save_image(torch.zeros(3, 2, 2).long(), p)),
                TypeError, "int64"),
            Bad("array", _saved_nothing(lambda p: save_image(np.zeros((2, 2, 3)), p)),
                TypeError, "ndarray"),
            Bad("no suffix", _saved_nothing(lambda p: save_image(torch.rand(3, 2, 2),
                                                                 p.with_suffix(""))),
                ValueError, "which image format"),
            Bad("unknown format", _saved_nothing(lambda p: save_image(torch.rand(3, 2, 2), p,
                                                                      format="nope")),
                ValueError, "unknown image format"),
            Bad("alpha as jpeg", _saved_nothing(lambda p: save_image(torch.rand(4, 2, 2),
                                                                     p.with_suffix(".jpg"))),
                ValueError, "JPEG.*alpha"),
            Bad("path is a folder", lambda: save_image(torch.rand(3, 2, 2), _tmp()), ValueError,
                "is a folder"),
            Bad("path type", lambda: save_image(torch.rand(3, 2, 2), 5), TypeError,
                "path must be"),
        ],
        valid=[
            Valid("overshoot 1.0000001", lambda: save_image(OVER, _tmp() / "o.png")),
            Valid("uint8 tensor", lambda: save_image(torch.zeros(3, 2, 2, dtype=torch.uint8),
                                                     _tmp() / "u.png")),
            Valid("PIL image as webp", lambda: save_image(Image.new("RGB", (3, 3)),
                                                          _tmp() / "p.webp")),
        ],
    ),
    Row(
        "to_numpy",
        bad=[
            Bad("array", lambda: to_numpy(np.zeros((2, 2))), TypeError, "already an array"),
            Bad("nan", lambda: to_numpy(_nan()), ValueError, "NaN or infinite"),
            Bad("inf", lambda: to_numpy(torch.full((2, 2), float("inf"))), ValueError,
                "NaN or infinite"),
            Bad("range", lambda: to_numpy(torch.full((3, 2, 2), -0.5)), ValueError,
                r"\[-0\.5"),
            Bad("int64", lambda: to_numpy(torch.zeros(3, 2, 2).long()), TypeError, "uint8"),
            Bad("channels", lambda: to_numpy(torch.rand(5, 2, 2)), ValueError, "1, 3 or 4"),
            Bad("batch", lambda: to_numpy(torch.rand(3, 3, 2, 2)), ValueError, "make_grid"),
            Bad("1-D", lambda: to_numpy(torch.rand(4)), ValueError, "C×H×W"),
            Bad("empty", lambda: to_numpy(torch.rand(3, 0, 2)), ValueError, "empty"),
        ],
        valid=[
            Valid("overshoot 1.0000001", lambda: to_numpy(OVER)),
            Valid("grayscale H×W", lambda: to_numpy(torch.rand(3, 5)),
                  lambda a: None if a.shape == (3, 5) else pytest.fail(str(a.shape))),
            Valid("half precision", lambda: to_numpy(torch.rand(3, 2, 2).half())),
        ],
    ),
    Row(
        "to_pil",
        bad=[
            Bad("none", lambda: to_pil(None), TypeError, "NoneType"),
            Bad("nan", lambda: to_pil(_nan()), ValueError, "NaN or infinite"),
            Bad("range", lambda: to_pil(torch.full((3, 2, 2), 255.0)), ValueError, "255"),
            Bad("channels-last", lambda: to_pil(torch.rand(5, 5, 3)), ValueError, "channels"),
            Bad("int16", lambda: to_pil(torch.zeros(3, 2, 2, dtype=torch.int16)),
                TypeError, "int16"),
        ],
        valid=[
            Valid("overshoot 1.0000001", lambda: to_pil(OVER)),
            Valid("PIL passes through", lambda: to_pil(Image.new("L", (2, 2)))),
            Valid("1×1×H×W", lambda: to_pil(torch.rand(1, 1, 3, 3))),
        ],
    ),
]

test_bad_input, test_valid_odd_input = table_tests(ROWS)
