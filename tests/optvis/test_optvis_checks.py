"""The shared checks the synthesis methods use: [0, 1] with a rounding tolerance, finite
numbers, sizes, seeds — and the antialiasing overshoot that motivated the tolerance."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from helpers.nets import image

from attribkit._checks import (
    UNIT_RANGE_TOLERANCE,
    check_image_batch,
    check_non_negative_number,
    check_positive_number,
    check_seed,
    check_size,
)


def test_antialiased_resize_overshoot_is_accepted_and_clamped() -> None:
    x = torch.zeros(1, 3, 64, 64)
    x[..., ::2, :] = 1.0  # stripes: antialiased downsampling rings
    small = F.interpolate(x, size=(23, 23), mode="bilinear", antialias=True)
    small[0, 0, 0, 0] = 1.0000001  # what the issue saw; a ringing resize can give it too
    out = check_image_batch(small, "image", unit_range=True)
    assert float(out.max()) <= 1.0 and float(out.min()) >= 0.0
    assert float(small.max()) > 1.0, "the caller's tensor is not modified"
    assert torch.equal(check_image_batch(out, unit_range=True), out)


def test_real_excess_is_refused_with_enough_digits() -> None:
    x = image(0).clone()
    x[0, 0, 0, 0] = 1.0 + 10 * UNIT_RANGE_TOLERANCE
    with pytest.raises(ValueError, match=r"\[0, 1\]") as info:
        check_image_batch(x, "image", unit_range=True)
    assert "1.0001" in str(info.value)  # the real maximum, not a rounded "1"
    with pytest.raises(ValueError, match=r"-0\.49876"):
        check_image_batch(x - 0.5, "image", unit_range=True)


def test_half_precision_tolerance_follows_the_dtype() -> None:
    x = image(0).half()
    x[0, 0, 0, 0] = 1.0 + 1e-3  # one ulp at 1.0 in float16
    assert float(check_image_batch(x, unit_range=True).max()) <= 1.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_numbers_are_checked_for_finiteness_first(bad: float) -> None:
    with pytest.raises(ValueError, match="lr must be a finite number"):
        check_positive_number(bad, "lr")
    with pytest.raises(ValueError, match="tv_weight must be a finite number"):
        check_non_negative_number(bad, "tv_weight")


def test_number_checks() -> None:
    assert check_positive_number(2, "x") == 2.0
    assert check_non_negative_number(0.0, "x") == 0.0
    assert check_positive_number(torch.tensor(0.5), "x") == 0.5
    with pytest.raises(ValueError, match="positive"):
        check_positive_number(0, "x")
    with pytest.raises(ValueError, match="non-negative"):
        check_non_negative_number(-1e-9, "x")
    with pytest.raises(TypeError, match="number"):
        check_positive_number("1", "x")
    with pytest.raises(TypeError, match="number"):
        check_positive_number(True, "x")


def test_size_and_seed() -> None:
    assert check_size(4) == (4, 4) and check_size([2, 3]) == (2, 3)
    for bad in (0, -1, (3,), (2, 0), 2.5, True, "8"):
        with pytest.raises(ValueError, match="size"):
            check_size(bad)
    assert check_seed(None) is None and check_seed(3) == 3
    with pytest.raises(ValueError, match="seed"):
        check_seed(-1)
    with pytest.raises(TypeError, match="seed"):
        check_seed(1.0)
