"""Bad-input rows for the grid helpers of ``attribkit.viz`` (grids, labels, show/save)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib
import numpy as np
import torch
from badinput import Bad, Row, Valid, table_tests
from helpers.nets import overshoot
from helpers.tiny import images, with_nan
from PIL import Image

from attribkit import make_grid, show
from attribkit.viz import gradient_image, label, normalize_each, save_or_show

matplotlib.use("Agg")
X = images(4)


def _show(*args: object, **kw: object) -> object:
    import matplotlib.pyplot as plt

    try:
        return show(*args, **kw)  # type: ignore[arg-type]
    finally:
        plt.close("all")


ROWS = [
    Row(
        "make_grid",
        bad=[
            Bad("nrow 0", lambda: make_grid(X, nrow=0), ValueError, "nrow"),
            Bad("nrow -1", lambda: make_grid(X, nrow=-1), ValueError, "nrow"),
            Bad("padding -1", lambda: make_grid(X, padding=-1), ValueError, "padding"),
            Bad("size 0", lambda: make_grid(X, size=0), ValueError, "size"),
            Bad("size triple", lambda: make_grid(X, size=(2, 2, 2)), ValueError, "size"),  # type: ignore[arg-type]
            Bad("NaN", lambda: make_grid(with_nan(X)), ValueError, "NaN"),
            Bad("empty", lambda: make_grid([]), ValueError, "at least one"),
            Bad("channels", lambda: make_grid(torch.rand(2, 4, 3, 3)), ValueError, "channels"),
            Bad("mixed sizes", lambda: make_grid([X[0], images(1, 5)[0]]), ValueError, "size="),
            Bad("int", lambda: make_grid((X * 255).long()), TypeError, "floating point"),
            Bad("pad nan", lambda: make_grid(X, pad_value=float("nan")), ValueError, "pad_value"),
            Bad("string", lambda: make_grid("a.png"), TypeError, "tensor or a list"),  # type: ignore[arg-type]
        ],
        valid=[
            Valid("one 3-D image", lambda: make_grid(X[0])),
            Valid("mixed sizes with size", lambda: make_grid([X[0], images(1, 5)[0]], size=4)),
            Valid("no padding", lambda: make_grid(X, padding=0)),
        ],
    ),
    Row(
        "show",
        bad=[
            Bad("NaN", lambda: _show(with_nan(X[0])), ValueError, "NaN"),
            Bad("5-D", lambda: _show(torch.rand(1, 1, 3, 4, 4)), ValueError, "2-D or 3-D or 4-D"),
            Bad("1-D", lambda: _show(torch.rand(3)), ValueError, "2-D or 3-D or 4-D"),
            Bad("list", lambda: _show([X[0]]), TypeError, "tensor"),
            Bad("int", lambda: _show((X[0] * 255).long()), TypeError, "floating point"),
            Bad("none", lambda: _show(None), TypeError, "show takes an image"),
            Bad("array", lambda: _show(np.zeros((4, 4, 3))), TypeError, "ndarray"),
            Bad("channels", lambda: _show(torch.rand(5, 4, 4)), ValueError, "1, 3 or 4"),
            Bad("range in a batch", lambda: _show(torch.full((2, 3, 4, 4), 4.0)), ValueError,
                r"\[0, 1\]"),
            Bad("title", lambda: _show(X[0], title=5), TypeError, "title"),
            Bad("ax", lambda: _show(X[0], ax="left"), TypeError, "matplotlib Axes"),
        ],
        valid=[
            Valid("gray 2-D map", lambda: _show(torch.rand(5, 7), "map")),
            Valid("overshoot 1.0000001", lambda: _show(overshoot(X[0]))),
            Valid("batch tiled", lambda: _show(torch.rand(4, 3, 6, 6))),
            Valid("uint8 batch", lambda: _show(torch.zeros(2, 1, 3, 3, dtype=torch.uint8))),
            Valid("PIL image", lambda: _show(Image.new("RGB", (3, 3)))),
        ],
    ),
    Row(
        "viz.gradient_image",
        bad=[
            Bad("NaN", lambda: gradient_image(with_nan(X)), ValueError, "NaN"),
            Bad("2-D", lambda: gradient_image(torch.rand(3, 3)), ValueError, "3-D or 4-D"),
            Bad("list", lambda: gradient_image([1.0]), TypeError, "tensor"),  # type: ignore[arg-type]
            Bad(
                "int",
                lambda: gradient_image(torch.ones(3, 2, 2, dtype=torch.long)),
                TypeError,
                "floating point",
            ),
            Bad(
                "inf",
                lambda: gradient_image(torch.full((3, 2, 2), float("inf"))),
                ValueError,
                "infinite",
            ),
        ],
        valid=[Valid("constant gradient", lambda: gradient_image(torch.zeros(3, 4, 4)))],
    ),
    Row(
        "viz.normalize_each",
        bad=[
            Bad("3-D", lambda: normalize_each(X[0]), ValueError, "4-D"),
            Bad("NaN", lambda: normalize_each(with_nan(X)), ValueError, "NaN"),
            Bad("eps 0", lambda: normalize_each(X, eps=0.0), ValueError, "eps"),
            Bad("eps nan", lambda: normalize_each(X, eps=float("nan")), ValueError, "eps"),
            Bad("list", lambda: normalize_each([X]), TypeError, "tensor"),  # type: ignore[arg-type]
        ],
        valid=[Valid("negative values", lambda: normalize_each(X - 5))],
    ),
    Row(
        "viz.label",
        bad=[
            Bad("height 0", lambda: label(X[0], "a", height=0), ValueError, "height"),
            Bad("text int", lambda: label(X[0], 5), TypeError, "text"),  # type: ignore[arg-type]
            Bad("NaN", lambda: label(with_nan(X[0]), "a"), ValueError, "NaN"),
            Bad("2-D", lambda: label(torch.rand(4, 4), "a"), ValueError, "3-D or 4-D"),
            Bad("list", lambda: label([X[0]], "a"), TypeError, "tensor"),  # type: ignore[arg-type]
        ],
        valid=[Valid("empty text", lambda: label(X[0], ""))],
    ),
    Row(
        "viz.save_or_show",
        bad=[
            Bad("NaN", lambda: save_or_show(with_nan(X[0]), _path()), ValueError, "NaN"),
            Bad("list", lambda: save_or_show([X[0]], _path()), TypeError, "tensor"),  # type: ignore[arg-type]
            Bad(
                "5-D",
                lambda: save_or_show(torch.rand(1, 1, 3, 2, 2), _path()),
                ValueError,
                "2-D or 3-D or 4-D",
            ),
            Bad(
                "int",
                lambda: save_or_show((X[0] * 255).long(), _path()),
                TypeError,
                "floating point",
            ),
            Bad("1-D", lambda: save_or_show(torch.rand(3), _path()), ValueError, "2-D or 3-D"),
        ],
        valid=[Valid("batch of one", lambda: save_or_show(X[:1], _path()))],
    ),
]


def _path() -> Path:
    return Path(tempfile.mkdtemp()) / "x.png"


test_bad_input, test_valid_odd_input = table_tests(ROWS)
