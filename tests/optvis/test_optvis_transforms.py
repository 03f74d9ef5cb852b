"""Transforms: shapes, meaning (closed forms), local randomness, gradients, bad input."""

from __future__ import annotations

import pytest
import torch

from attribkit.optvis import (
    Compose,
    GaussianBlur,
    Jitter,
    Pad,
    RandomRotate,
    RandomScale,
    gaussian_blur,
    standard_transforms,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_shape() -> None:
    x = torch.rand(2, 3, 16, 16, generator=gen())
    assert Pad(3)(x).shape == (2, 3, 22, 22)
    assert Jitter(4)(x, gen()).shape == (2, 3, 12, 12)
    assert Jitter(4, mode="roll")(x, gen()).shape == x.shape
    assert RandomScale([0.5])(x, gen()).shape == (2, 3, 8, 8)
    assert RandomRotate([30.0])(x, gen()).shape == x.shape
    assert GaussianBlur(1.0)(x).shape == x.shape
    assert standard_transforms()(x, gen()).shape[:2] == (2, 3)


def test_meaning() -> None:
    x = torch.rand(1, 3, 10, 10, generator=gen(1))
    # roll keeps every pixel; crop jitter returns a window of the input
    rolled = Jitter(3, mode="roll")(x, gen(2))
    torch.testing.assert_close(rolled.sum(), x.sum())
    crop = Jitter(2)(x, gen(2))
    windows = [x[..., i : i + 8, j : j + 8] for i in range(3) for j in range(3)]
    assert any(torch.equal(crop, w) for w in windows)
    # the identity cases
    assert torch.equal(RandomRotate([0.0])(x, gen()), x)
    assert torch.equal(RandomScale([1.0])(x, gen()), x)
    torch.testing.assert_close(RandomRotate([360.0])(x, gen()), x, atol=1e-5, rtol=0)
    # rotating by 90 degrees twice is rotating by 180 (= flipping both axes)
    r90 = RandomRotate([90.0])
    torch.testing.assert_close(r90(r90(x, gen()), gen()), x.flip(2, 3), atol=1e-5, rtol=0)
    # constant padding fills with the value
    assert float(Pad(2, mode="constant", value=0.5)(x)[0, 0, 0, 0]) == 0.5


def test_blur_closed_form() -> None:
    # a constant image is unchanged, and a centred delta spreads into a normalized Gaussian
    assert torch.allclose(gaussian_blur(torch.ones(1, 1, 9, 9), 1.0), torch.ones(1, 1, 9, 9))
    delta = torch.zeros(1, 1, 15, 15, dtype=torch.float64)
    delta[..., 7, 7] = 1.0
    out = gaussian_blur(delta, 1.0)
    torch.testing.assert_close(out.sum(), torch.tensor(1.0, dtype=torch.float64))
    r = torch.arange(15, dtype=torch.float64) - 7
    k = torch.exp(-0.5 * r**2)
    k = k * (r.abs() <= 3)
    k = k / k.sum()
    torch.testing.assert_close(out[0, 0], torch.outer(k, k))
    assert torch.equal(gaussian_blur(delta, 0.0), delta)


def test_randomness_is_local_and_reproducible() -> None:
    x = torch.rand(1, 3, 16, 16, generator=gen())
    t = standard_transforms()
    state = torch.random.get_rng_state()
    a, b = t(x, gen(5)), t(x, gen(5))
    assert torch.equal(a, b)
    assert torch.equal(state, torch.random.get_rng_state()), "the global RNG was used"
    outs = {tuple(t(x, gen(s)).shape) for s in range(20)}
    assert len(outs) > 1, "the random scale never changed"


def test_gradcheck() -> None:
    x = torch.rand(1, 2, 6, 6, dtype=torch.float64, generator=gen()).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: gaussian_blur(t, 0.8), (x,))
    assert torch.autograd.gradcheck(lambda t: RandomRotate([20.0])(t, gen()), (x,))
    assert torch.autograd.gradcheck(lambda t: Compose(Pad(1), Jitter(2))(t, gen()), (x,))


def test_module_features() -> None:
    t = Compose([Pad(2), Jitter(1), GaussianBlur(0.5)])
    assert len(t) == 3
    assert "Jitter(d=1" in repr(t)
    assert t.to(torch.float64) is t


def test_exception() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        Pad(-1)
    with pytest.raises(ValueError, match="mode"):
        Pad(1, mode="wrap")
    with pytest.raises(ValueError, match="non-negative"):
        Jitter(-2)
    with pytest.raises(ValueError, match="too large"):
        Jitter(8)(torch.zeros(1, 3, 8, 8), gen())
    with pytest.raises(ValueError, match="positive"):
        RandomScale([0.0])
    with pytest.raises(ValueError, match="non-empty"):
        RandomRotate([])
    with pytest.raises(ValueError, match="sigma"):
        GaussianBlur(-1.0)
    with pytest.raises(ValueError, match="odd"):
        gaussian_blur(torch.zeros(1, 1, 8, 8), 1.0, kernel_size=4)
    with pytest.raises(TypeError, match="transform modules"):
        Compose(lambda x: x)  # type: ignore[arg-type]
