"""Bad-input rows for fooling images, their figure and the budget sweep (see
``tests/badinput.py``)."""

from __future__ import annotations

import pytest
import torch
from badinput import Bad, Row, Valid, table_tests
from helpers.nets import assert_unit_images, image, overshoot, small_cnn

from attribkit import FoolingImage, fooling_figure, fooling_sweep

NAN, INF = float("nan"), float("inf")
NET = small_cnn()
FAST = {"steps": 1, "show_progress": False}


def _x(n: int = 1) -> torch.Tensor:
    return 0.1 + 0.8 * image(0, 8, n=n)


def _fool(x: object = None, target: object = 1, **kw: object) -> object:
    x = _x() if x is None else x
    return FoolingImage(NET).perturb(x, target, **{**FAST, **kw})  # type: ignore[arg-type]


ROWS = [
    Row(
        "FoolingImage",
        bad=[
            Bad("model not a module", lambda: FoolingImage(lambda t: t), TypeError, "nn.Module"),  # type: ignore[arg-type]
            Bad("3-D image", lambda: _fool(_x()[0]), ValueError, "4-D"),
            Bad("fractional target", lambda: _fool(target=1.5), TypeError, "whole class index"),
            Bad("target out of range", lambda: _fool(target=9), ValueError, "out of range"),
            Bad("NaN epsilon", lambda: _fool(epsilon=NAN), ValueError, "epsilon must be a finite"),
            Bad("infinite lr", lambda: _fool(lr=INF), ValueError, "lr must be a finite"),
            Bad("threshold above 1", lambda: _fool(threshold=1.5), ValueError, "threshold"),
            Bad("NaN threshold", lambda: _fool(threshold=NAN), ValueError, "finite"),
            Bad("unknown norm", lambda: _fool(norm="l1"), ValueError, "norm"),
            Bad("unknown method", lambda: _fool(method="cw"), ValueError, "method"),
            Bad("random_start a string", lambda: _fool(random_start="yes"), TypeError,
                "random_start"),
            Bad("targets for another batch", lambda: _fool(target=[0, 1]), ValueError,
                "one per input"),
            Bad("old keyword step_size", lambda: _fool(step_size=0.1), TypeError, "step_size"),
        ],
        valid=[
            Valid("image overshooting by rounding", lambda: _fool(overshoot(_x())),
                  assert_unit_images),
            Valid("target as a tensor", lambda: _fool(_x(2), torch.tensor([1, 2])),
                  assert_unit_images),
        ],
    ),
    Row(
        "fooling_figure",
        bad=[
            Bad("negative magnify", lambda: fooling_figure(_x(), _x(), magnify=-1), ValueError,
                "magnify"),
            Bad("NaN magnify", lambda: fooling_figure(_x(), _x(), magnify=NAN), ValueError,
                "finite"),
            Bad("magnify an unknown word", lambda: fooling_figure(_x(), _x(), magnify="big"),
                ValueError, "normalize"),
            Bad("shapes differ", lambda: fooling_figure(_x(), image(0, 4)), ValueError,
                "differ in shape"),
            Bad("3-D original", lambda: fooling_figure(_x()[0], _x()), ValueError, "4-D"),
            Bad("fooled outside [0, 1]", lambda: fooling_figure(_x(), _x() + 1), ValueError,
                r"\[0, 1\]"),
        ],
        valid=[
            Valid("identical images, normalized", lambda: fooling_figure(_x(), _x(),
                                                                         magnify="normalize"),
                  lambda fig: None if fig.shape[0] == 3 else pytest.fail("RGB")),
        ],
    ),
    Row(
        "fooling_sweep",
        bad=[
            Bad("no budgets", lambda: fooling_sweep(NET, _x(), 1, [], **FAST), ValueError,
                "epsilons"),
            Bad("NaN budget", lambda: fooling_sweep(NET, _x(), 1, [NAN], **FAST), ValueError,
                "finite"),
            Bad("one number", lambda: fooling_sweep(NET, _x(), 1, 0.1, **FAST), ValueError,  # type: ignore[arg-type]
                "list"),
            Bad("epsilon instead of epsilons", lambda: fooling_sweep(
                NET, _x(), 1, [0.1], epsilon=0.2, **FAST), TypeError, "epsilons"),
            Bad("3-D images", lambda: fooling_sweep(NET, _x()[0], 1, [0.1], **FAST), ValueError,
                "4-D"),
            Bad("negative budget", lambda: fooling_sweep(NET, _x(), 1, [0.1, -0.1], **FAST),
                ValueError, "positive"),
        ],
        valid=[
            Valid("budgets as a tuple, untargeted", lambda: fooling_sweep(
                NET, _x(2), None, (0.01, 0.1), **FAST),
                lambda res: None if len(res.success_rate) == 2 else pytest.fail("two budgets")),
        ],
    ),
]

test_bad_input, test_valid_odd_input = table_tests(ROWS)
